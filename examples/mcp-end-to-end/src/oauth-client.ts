import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * What an MCP client (a desktop app, an IDE) keeps for one MCP server, in memory: the SDK calls
 * these as it discovers the AS, sends the user to authorize, and exchanges and refreshes tokens.
 * With `clientMetadataUrl` set, the SDK uses that URL as its client_id wherever the AS says
 * `client_id_metadata_document_supported`, instead of registering.
 */
export class MemoryOAuthClient implements OAuthClientProvider {
  /** Every authorization URL the SDK sent the user to. */
  readonly authorizationUrls: URL[] = [];
  /** Every client registration the SDK saved (a URL client_id, or a dynamic registration's answer). */
  readonly savedClientInformation: OAuthClientInformationMixed[] = [];
  private information?: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier?: string;

  constructor(
    readonly clientMetadataUrl: string,
    readonly redirectUrl: string,
    /** Set for a confidential client: signs its private_key_jwt assertion. */
    readonly addClientAuthentication?: OAuthClientProvider['addClientAuthentication'],
  ) {}

  /** Used only for dynamic registration, which must not happen here. */
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'cimd-gateway example MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.information;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.savedClientInformation.push(information);
    this.information = information;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no authorization was started');
    return this.verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }
}
