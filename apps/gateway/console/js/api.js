// The /v1 API as the console calls it: the token from sessionStorage as a Bearer header
// (never in a URL), JSON in and out, and the API's {error, error_description} as ApiError.

const TOKEN_KEY = 'cimd-console-token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error_description ?? `HTTP ${status}`);
    this.status = status;
    this.error = body?.error ?? 'error';
    this.description = body?.error_description ?? `the gateway answered ${status}`;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export async function api(method, path, body, options = {}) {
  const headers = { accept: 'application/json' };
  const bearer = options.token ?? token.get();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    signal: options.signal,
  });
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;

/**
 * Read a text/event-stream response with fetch (EventSource cannot send the Authorization
 * header): calls onEvent(type, data, id) per event; resolves when the stream ends.
 */
export async function readEventStream(path, { signal, onOpen, onEvent }) {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${token.get()}`, accept: 'text/event-stream' },
    credentials: 'omit',
    cache: 'no-store',
    signal,
  });
  if (!res.ok) {
    let body;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    throw new ApiError(res.status, body);
  }
  onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = 'message';
      let id;
      const data = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') type = val;
        else if (name === 'data') data.push(val);
        else if (name === 'id') id = val;
      }
      if (data.length > 0) onEvent(type, data.join('\n'), id);
    }
  }
}
