import { clientHealth } from './client-health';

describe('clientHealth: how a client stands, for the operator', () => {
  it.each([
    ['suspect wins over everything', { suspect: true, failing: true, entryStatus: 'valid' as const }, 'suspect'],
    [
      'a failed last fetch, whatever was cached',
      { suspect: false, failing: true, entryStatus: 'valid' as const },
      'failing',
    ],
    [
      'the cache entry',
      { suspect: false, failing: false, entryStatus: 'gone' as const, registryStatus: 'valid' },
      'gone',
    ],
    ['the registry when the entry expired', { suspect: false, failing: false, registryStatus: 'invalid' }, 'invalid'],
    ['nothing known yet', { suspect: false, failing: false, registryStatus: null }, 'unfetched'],
    ['a status this build does not know', { suspect: false, failing: false, registryStatus: 'weird' }, 'unfetched'],
  ])('%s', (_name, input, expected) => {
    expect(clientHealth(input)).toBe(expected);
  });
});
