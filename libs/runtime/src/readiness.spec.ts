import { probe } from './readiness';

describe('probe', () => {
  it('reports up when the check resolves', async () => {
    await expect(probe(() => Promise.resolve('PONG'))).resolves.toEqual({ status: 'up' });
  });

  it('reports down with the error message when the check rejects', async () => {
    await expect(probe(() => Promise.reject(new Error('connection refused')))).resolves.toEqual({
      status: 'down',
      error: 'connection refused',
    });
  });

  it('reports down when the check never answers', async () => {
    const result = await probe(() => new Promise<never>(() => undefined), 50);
    expect(result.status).toBe('down');
    expect(result.error).toContain('no answer within 50 ms');
  });
});
