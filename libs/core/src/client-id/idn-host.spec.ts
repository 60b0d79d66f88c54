import { hasPunycodeLabel, idnHostForms } from './idn-host';

describe('idnHostForms (SPEC-NOTES 19)', () => {
  it.each([
    // Cyrillic "а" (U+0430) in "apple": the look-alike of the probe.
    ['xn--pple-43d.test', { unicode: '\u0430pple.test', punycode: 'xn--pple-43d.test' }],
    // Every letter Cyrillic.
    ['xn--80ak6aa92e.com', { unicode: '\u0430\u0440\u0440\u04cf\u0435.com', punycode: 'xn--80ak6aa92e.com' }],
    // An internationalized top-level domain only.
    ['shop.xn--p1ai', { unicode: 'shop.\u0440\u0444', punycode: 'shop.xn--p1ai' }],
    // Upper case in the client_id: lower-cased, as the host a decision shows.
    ['XN--BCHER-KVA.example', { unicode: 'b\u00fccher.example', punycode: 'xn--bcher-kva.example' }],
    // An A-label that decodes to plain ASCII (no IDNA encoder writes it, URL parsers accept it).
    ['xn--apple-.test', { unicode: 'apple.test', punycode: 'xn--apple-.test' }],
    // Not decodable: shown as written (URL parsing refuses it, so no checked client_id has one).
    ['xn--zzzz.test', { unicode: 'xn--zzzz.test', punycode: 'xn--zzzz.test' }],
  ])('%s → %j', (host, forms) => {
    expect(hasPunycodeLabel(host)).toBe(true);
    expect(idnHostForms(host)).toEqual(forms);
  });

  it.each(['app.example.com', 'axn--pple-43d.test', 'xn-pple.test', 'example.xn', '127.0.0.1', '[::1]'])(
    '%s has no punycode label',
    (host) => {
      expect(hasPunycodeLabel(host)).toBe(false);
      expect(idnHostForms(host)).toBeUndefined();
    },
  );
});
