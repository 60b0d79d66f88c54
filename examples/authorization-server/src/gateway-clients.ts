import { CimdGateway, isGatewayError, MetadataDocument } from '@cimd/client';
import type { Adapter, AdapterPayload, ClientMetadata, ResponseType } from 'oidc-provider';

/**
 * Client identifiers this AS hands to cimd-gateway: HTTPS URLs. Identifiers the AS issues
 * itself never start with `https://` (SPEC-NOTES 25), so the two never mix.
 */
export function isClientIdUrl(clientId: unknown): clientId is string {
  return typeof clientId === 'string' && clientId.startsWith('https://');
}

/** What this AS supports, and so what oidc-provider may see in a client's metadata. */
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
const RESPONSE_TYPES = new Set(['code']);

/**
 * oidc-provider's client metadata for a CIMD client: the part of the document the gateway
 * validated that oidc-provider acts on. The rest (logo, URIs, contacts) is the gateway's to
 * check and show; handing it on would only let oidc-provider refuse documents the gateway
 * accepts (its `contacts` must be e-mail addresses, for one).
 */
export function providerMetadata(document: MetadataDocument): ClientMetadata {
  return {
    client_id: document.client_id,
    ...(document.client_name !== undefined ? { client_name: document.client_name } : {}),
    redirect_uris: document.redirect_uris,
    grant_types: document.grant_types.filter((g) => GRANT_TYPES.has(g)),
    response_types: document.response_types.filter((r): r is ResponseType => RESPONSE_TYPES.has(r)),
    ...(document.scope !== undefined ? { scope: document.scope } : {}),
    // The gateway authenticates CIMD clients at the token endpoint, private_key_jwt ones with
    // their assertion (client-authentication.ts); oidc-provider has nothing left to check.
    token_endpoint_auth_method: 'none',
    // oidc-provider lets a loopback redirect URI's port vary (RFC 8252 §7.3) for native clients
    // only; the gateway has matched the request's redirect_uri by those rules for every client.
    application_type: 'native',
  };
}

/**
 * oidc-provider's adapter for the Client model: URL client_ids are looked up in the gateway's
 * cache, which holds the document as the gateway validated it (the authorize check and the
 * client authentication before this look-up fetch it when it is not there). A client the
 * gateway holds as gone or invalid is no client. Clients are never stored here.
 */
export class GatewayClients implements Adapter {
  constructor(private readonly gateway: CimdGateway) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!isClientIdUrl(id)) return undefined;
    try {
      const record = await this.gateway.getClient(id);
      if (record?.status !== 'valid' || !record.document) return undefined;
      return providerMetadata(record.document);
    } catch (e) {
      // Not a client identifier URL by the gateway's rules: no such client.
      if (isGatewayError(e, 'invalid_request')) return undefined;
      throw e;
    }
  }

  upsert(): Promise<void> {
    return Promise.reject(new Error('CIMD clients are registered by their documents, not stored by this AS'));
  }

  findByUid(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  consume(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }

  revokeByGrantId(): Promise<void> {
    return Promise.resolve();
  }
}
