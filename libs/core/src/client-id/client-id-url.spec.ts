import fc from 'fast-check';
import { checkClientIdUrl, notAUrl } from './client-id-url';
import { CLIENT_ID_URL_CASES } from './client-id-url.cases';

describe('checkClientIdUrl (SPEC-NOTES 1-3)', () => {
  it.each(CLIENT_ID_URL_CASES)('SPEC-NOTES $rule: $name', ({ input, errors, warnings = [] }) => {
    const result = checkClientIdUrl(input);
    expect(result.errors.map((e) => e.code)).toEqual(errors);
    expect(result.warnings.map((w) => w.code)).toEqual(warnings);
    expect(result.valid).toBe(errors.length === 0);
    for (const f of [...result.errors, ...result.warnings]) expect(f.message.length).toBeGreaterThan(20);
  });

  it('keeps the identifier exactly as written and derives a lower-cased host and origin', () => {
    const result = checkClientIdUrl('https://EXAMPLE.com:8443/Client.json');
    expect(result.url).toEqual({
      value: 'https://EXAMPLE.com:8443/Client.json',
      host: 'example.com',
      port: 8443,
      origin: 'https://example.com:8443',
    });
  });

  it('omits the default port from the origin', () => {
    expect(checkClientIdUrl('https://example.com:443/c').url?.origin).toBe('https://example.com');
  });

  it('names the offending character and its position', () => {
    const [error] = checkClientIdUrl('https://example.com/a b').errors;
    expect(error?.message).toContain('a space');
    expect(error?.message).toContain('position 21');
  });

  it('points at an unreplaced template placeholder', () => {
    expect(checkClientIdUrl('%BASE_URL%/clientid.jsonld').errors[0]?.message).toContain('template placeholder');
  });

  describe('properties', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/);
    const dotSegment = fc.constantFrom('.', '..', '%2e', '%2E', '.%2e', '%2E.', '%2e%2E');

    it('never throws and always answers valid exactly when there are no errors', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.anything()), (input) => {
          const r = checkClientIdUrl(input);
          expect(r.valid).toBe(r.errors.length === 0);
          expect(r.url !== undefined).toBe(r.valid);
        }),
        { numRuns: 2000 },
      );
    });

    it('rejects every path with a dot segment, however it is encoded (SPEC-NOTES 2)', () => {
      fc.assert(
        fc.property(
          fc.array(segment, { maxLength: 3 }),
          dotSegment,
          fc.array(segment, { maxLength: 3 }),
          (a, dot, b) => {
            const url = `https://example.com/${[...a, dot, ...b].join('/')}`;
            expect(checkClientIdUrl(url).errors.map((e) => e.code)).toContain('client_id.dot_segment');
          },
        ),
      );
    });

    it('for every valid identifier, a URL parser reads the same host and keeps every path segment', () => {
      fc.assert(
        fc.property(fc.webUrl({ validSchemes: ['https'], withQueryParameters: true }), (url) => {
          const r = checkClientIdUrl(url);
          if (!r.url) return;
          const parsed = new URL(url);
          expect(parsed.hostname.replace(/\.$/, '')).toBe(r.url.host.replace(/\.$/, ''));
          const rawPath = url.replace(/^https:\/\/[^/?#]*/, '').replace(/[?#].*$/, '');
          expect(parsed.pathname).toBe(rawPath);
        }),
        { numRuns: 1000 },
      );
    });
  });
});

describe('notAUrl', () => {
  it('names the problem of a client_id that is not a URL at all', () => {
    expect(notAUrl(checkClientIdUrl('not a url'))?.code).toBe('client_id.invalid_character');
    expect(notAUrl(checkClientIdUrl(''))?.code).toBe('client_id.empty');
  });

  it('is undefined for a URL, even one the rules refuse (that is a decision, not a malformed request)', () => {
    expect(checkClientIdUrl('http://app.example/client.json').errors).not.toHaveLength(0);
    expect(notAUrl(checkClientIdUrl('http://app.example/client.json'))).toBeUndefined();
    expect(notAUrl(checkClientIdUrl('https://app.example/client.json'))).toBeUndefined();
  });
});
