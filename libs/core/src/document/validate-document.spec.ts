import { checkDocumentSize, validateMetadataDocument } from './validate-document';
import { BASE_DOCUMENT, CLIENT_ID, DOCUMENT_CASES, variant } from './validate-document.cases';

describe('validateMetadataDocument (SPEC-NOTES 9-13)', () => {
  it.each(DOCUMENT_CASES)('SPEC-NOTES $rule: $name', ({ document, clientId, errors, warnings = [] }) => {
    const result = validateMetadataDocument(document, clientId === null ? {} : { clientId: clientId ?? CLIENT_ID });
    expect(result.errors.map((e) => e.code)).toEqual(errors);
    expect(result.warnings.map((w) => w.code)).toEqual(warnings);
    expect(result.valid).toBe(errors.length === 0);
    expect(result.document !== undefined).toBe(result.valid);
  });

  it('normalizes: fills defaults and drops unknown properties (SPEC-NOTES 13)', () => {
    const result = validateMetadataDocument(
      { client_id: CLIENT_ID, redirect_uris: ['https://app.example.com/cb'], client_name: 'X', extra: { deep: [1] } },
      { clientId: CLIENT_ID },
    );
    expect(result.document).toEqual({
      client_id: CLIENT_ID,
      redirect_uris: ['https://app.example.com/cb'],
      client_name: 'X',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'web',
    });
  });

  it('keeps the fields it knows', () => {
    const doc = variant({
      scope: 'a b',
      dpop_bound_access_tokens: true,
      application_type: 'native',
      contacts: ['x@example.com'],
    });
    expect(validateMetadataDocument(doc, { clientId: CLIENT_ID }).document).toMatchObject({
      scope: 'a b',
      dpop_bound_access_tokens: true,
      application_type: 'native',
      contacts: ['x@example.com'],
      logo_uri: BASE_DOCUMENT.logo_uri,
    });
  });

  it('explains a mismatch that differs only in case, and names both URLs', () => {
    const [error] = validateMetadataDocument(variant({ client_id: CLIENT_ID.toUpperCase() }), {
      clientId: CLIENT_ID,
    }).errors;
    expect(error?.message).toContain('only in letter case');
    expect(error?.message).toContain(CLIENT_ID);
  });

  it('says which field has the wrong type and what it holds', () => {
    const [error] = validateMetadataDocument(variant({ redirect_uris: ['https://a.example/x', 3] }), {
      clientId: CLIENT_ID,
    }).errors;
    expect(error).toMatchObject({ field: 'redirect_uris' });
    expect(error?.message).toBe('redirect_uris must be an array of strings; found an array whose item 1 is a number.');
  });

  it('never echoes private key material', () => {
    const d = 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI';
    const result = validateMetadataDocument(variant({ jwks: { keys: [{ kty: 'EC', d }] } }), { clientId: CLIENT_ID });
    expect(JSON.stringify(result)).not.toContain(d);
  });

  it('warns when a document is larger than the fetcher accepts (SPEC-NOTES 6)', () => {
    expect(checkDocumentSize(5120)).toBeUndefined();
    expect(checkDocumentSize(5121)?.code).toBe('document.exceeds_fetch_limit');
  });
});
