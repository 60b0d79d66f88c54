import { documentChanges } from './document-changes';
import { MetadataDocument } from './metadata-document';

const BASE: MetadataDocument = {
  client_id: 'https://a.example/c',
  client_name: 'A',
  redirect_uris: ['https://a.example/cb', 'http://127.0.0.1/cb'],
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: '1', y: '2' }] },
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  application_type: 'web',
  scope: 'read write',
  logo_uri: 'https://a.example/logo.png',
};

describe('documentChanges (SPEC-NOTES 23)', () => {
  it.each<[string, Partial<MetadataDocument>, string[]]>([
    ['nothing', {}, []],
    ['a redirect URI removed', { redirect_uris: ['https://a.example/cb'] }, ['redirect_uris_removed']],
    [
      'a redirect URI added',
      { redirect_uris: [...BASE.redirect_uris, 'https://a.example/cb2'] },
      ['redirect_uris_added'],
    ],
    [
      'a redirect URI replaced',
      { redirect_uris: ['https://a.example/cb', 'http://127.0.0.1/other'] },
      ['redirect_uris_removed', 'redirect_uris_added'],
    ],
    ['redirect URIs reordered', { redirect_uris: [...BASE.redirect_uris].reverse() }, []],
    ['a key replaced', { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: '9', y: '2' }] } }, ['keys']],
    ['keys moved to jwks_uri', { jwks: undefined, jwks_uri: 'https://a.example/jwks' }, ['keys']],
    ['key members reordered', { jwks: { keys: [{ y: '2', x: '1', crv: 'P-256', kty: 'EC' }] } }, []],
    ['auth method', { token_endpoint_auth_method: 'none' }, ['token_endpoint_auth_method']],
    ['grant types', { grant_types: ['authorization_code'] }, ['grant_types']],
    ['grant types reordered', { grant_types: ['refresh_token', 'authorization_code'] }, []],
    ['scope', { scope: 'read' }, ['scope']],
    ['scope reordered', { scope: 'write read' }, []],
    ['name', { client_name: 'B' }, ['client_name']],
    ['logo', { logo_uri: 'https://a.example/new.png' }, ['logo_uri']],
  ])('%s', (_name, change, expected) => {
    const next = { ...BASE, ...change };
    for (const [k, v] of Object.entries(change))
      if (v === undefined) delete (next as unknown as Record<string, unknown>)[k];
    expect(documentChanges(BASE, next)).toEqual(expected);
  });
});
