/** One request the MCP client made, with the answer's status. */
export interface Recorded {
  method: string;
  url: string;
  status: number;
  /** The form it sent, for requests with a urlencoded body (token requests). */
  form?: URLSearchParams;
}

/** A fetch for the MCP SDK that keeps a log of what the client asked where, and what it got. */
export class FetchRecorder {
  readonly requests: Recorded[] = [];

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    this.requests.push({
      method: init?.method ?? (input instanceof Request ? input.method : 'GET'),
      url,
      status: res.status,
      ...(init?.body instanceof URLSearchParams ? { form: new URLSearchParams(init.body) } : {}),
    });
    return res;
  };

  /** Requests to a path (any origin). */
  to(path: string): Recorded[] {
    return this.requests.filter((r) => new URL(r.url).pathname === path);
  }
}
