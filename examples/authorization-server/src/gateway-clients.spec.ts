import type { MetadataDocument } from '@cimd/client';
import { isClientIdUrl, providerMetadata } from './gateway-clients';

const document: MetadataDocument = {
  client_id: 'https://app.example/oauth/client.json',
  client_name: 'App',
  redirect_uris: ['http://127.0.0.1/callback', 'https://app.example/cb'],
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'private_key_jwt',
  application_type: 'web',
  jwks_uri: 'https://app.example/jwks.json',
  logo_uri: 'https://app.example/logo.png',
  contacts: ['https://app.example/support'],
};

describe('providerMetadata', () => {
  it('hands oidc-provider only what it acts on: a native public client with the grants this AS supports', () => {
    expect(providerMetadata(document)).toEqual({
      client_id: document.client_id,
      client_name: 'App',
      redirect_uris: document.redirect_uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
  });
});

describe('isClientIdUrl', () => {
  it.each([
    ['https://app.example/oauth/client.json', true],
    ['mcp-server', false],
    ['http://app.example/client.json', false],
    [undefined, false],
  ])('%p → %p', (id, expected) => {
    expect(isClientIdUrl(id)).toBe(expected);
  });
});
