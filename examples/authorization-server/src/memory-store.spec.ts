import { MemoryStore } from './memory-store';

describe('MemoryStore', () => {
  it('revokes a grant with every code and token issued under it, and nothing else', async () => {
    const store = new MemoryStore();
    const [grants, tokens, codes] = [
      store.adapter('Grant'),
      store.adapter('AccessToken'),
      store.adapter('AuthorizationCode'),
    ];
    await grants.upsert('g1', { clientId: 'https://a.test/c.json', accountId: 'u' }, 3600);
    await grants.upsert('g2', { clientId: 'https://a.test/c.json', accountId: 'v' }, 3600);
    await tokens.upsert('t1', { grantId: 'g1' }, 600);
    await codes.upsert('c1', { grantId: 'g1' }, 60);
    await tokens.upsert('t2', { grantId: 'g2' }, 600);
    expect(store.grantsOf('https://a.test/c.json').sort()).toEqual(['g1', 'g2']);

    store.revokeGrant('g1');
    expect([await grants.find('g1'), await tokens.find('t1'), await codes.find('c1')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await tokens.find('t2')).toEqual({ grantId: 'g2' });
    expect(store.grantsOf('https://a.test/c.json')).toEqual(['g2']);
  });

  it('forgets what has expired, and marks what is consumed', async () => {
    const store = new MemoryStore();
    const codes = store.adapter('AuthorizationCode');
    await codes.upsert('old', { grantId: 'g' }, -1);
    await codes.upsert('new', { grantId: 'g' }, 60);
    expect(await codes.find('old')).toBeUndefined();
    await codes.consume('new');
    expect((await codes.find('new'))?.consumed).toEqual(expect.any(Number));
  });
});
