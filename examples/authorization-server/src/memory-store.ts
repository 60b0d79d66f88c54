import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Stored {
  payload: AdapterPayload;
  expiresAt?: number;
}

/**
 * Where oidc-provider keeps its grants, codes, tokens, sessions and interactions: memory, for
 * the example (a real AS uses its database). Indexed by grant, to revoke a grant with every
 * artifact issued under it, and grants by client, to find what a client's revocation ends.
 */
export class MemoryStore {
  private readonly items = new Map<string, Stored>();
  private readonly byGrant = new Map<string, Set<string>>();
  private readonly byUid = new Map<string, string>();
  private readonly byUserCode = new Map<string, string>();

  /** oidc-provider's adapter for one model (`adapter: (name) => store.adapter(name)`). */
  adapter(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert: (id, payload, expiresIn) => {
        this.items.set(key(id), { payload, ...(expiresIn ? { expiresAt: Date.now() + expiresIn * 1000 } : {}) });
        if (model === 'Grant') this.index(id, key(id));
        if (payload.grantId) this.index(payload.grantId, key(id));
        if (payload.uid) this.byUid.set(payload.uid, key(id));
        if (payload.userCode) this.byUserCode.set(payload.userCode, key(id));
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(this.get(key(id))),
      findByUid: (uid) => Promise.resolve(this.get(this.byUid.get(uid))),
      findByUserCode: (userCode) => Promise.resolve(this.get(this.byUserCode.get(userCode))),
      consume: (id) => {
        const item = this.items.get(key(id));
        if (item) item.payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy: (id) => {
        this.items.delete(key(id));
        return Promise.resolve();
      },
      revokeByGrantId: (grantId) => {
        this.revokeGrant(grantId);
        return Promise.resolve();
      },
    };
  }

  /** The grants this AS holds for a client (their ids are the gateway's session ids). */
  grantsOf(clientId: string): string[] {
    const ids: string[] = [];
    for (const [key, item] of this.items) {
      if (key.startsWith('Grant:') && item.payload.clientId === clientId && this.get(key)) ids.push(key.slice(6));
    }
    return ids;
  }

  /** End a grant and everything issued under it: codes, access and refresh tokens. */
  revokeGrant(grantId: string): void {
    for (const key of this.byGrant.get(grantId) ?? []) this.items.delete(key);
    this.byGrant.delete(grantId);
  }

  private index(grantId: string, key: string): void {
    let keys = this.byGrant.get(grantId);
    if (!keys) this.byGrant.set(grantId, (keys = new Set()));
    keys.add(key);
  }

  private get(key: string | undefined): AdapterPayload | undefined {
    const item = key === undefined ? undefined : this.items.get(key);
    if (!item) return undefined;
    if (item.expiresAt !== undefined && item.expiresAt <= Date.now()) {
      this.items.delete(key as string);
      return undefined;
    }
    return item.payload;
  }
}
