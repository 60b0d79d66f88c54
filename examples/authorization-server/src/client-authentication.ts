import { CimdGateway, ClientAuthentication } from '@cimd/client';
import { decodeJwt } from 'jose';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { param, readForm, RepeatedParameter } from './form-body';
import { isClientIdUrl } from './gateway-clients';

/** The `sub` of an assertion, unverified: only to know which client to ask the gateway about. */
function subjectOf(assertion: string | undefined): string | undefined {
  if (assertion === undefined) return undefined;
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

function fail(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  if (status === 401) ctx.set('www-authenticate', 'Basic realm="token endpoint"');
  ctx.body = { error, error_description: description };
}

/**
 * Client authentication of CIMD clients at the endpoints that authenticate clients (token,
 * introspection, revocation), by cimd-gateway: a `private_key_jwt` client's assertion is
 * verified there, with a key from its document (`jwks` or `jwks_uri`, which the gateway's
 * isolated fetcher fetches), single use of its `jti` across the fleet; a public client is
 * checked to be one. Then oidc-provider gets the request without the assertion, for the public
 * client GatewayClients describes: it has nothing left to verify, and never fetches a key itself.
 */
export function clientAuthentication(gateway: CimdGateway, paths: readonly string[], logger: Logger): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !paths.includes(ctx.path)) {
      await next();
      return;
    }
    const form = await readForm(ctx);
    if (!form) {
      await next();
      return;
    }
    let clientId: string | undefined;
    let assertion: string | undefined;
    let assertionType: string | undefined;
    try {
      assertion = param(form, 'client_assertion');
      assertionType = param(form, 'client_assertion_type');
      clientId = param(form, 'client_id') ?? subjectOf(assertion);
    } catch (e) {
      if (!(e instanceof RepeatedParameter)) throw e;
      return fail(ctx, 400, 'invalid_request', e.message);
    }
    if (!isClientIdUrl(clientId)) {
      await next();
      return;
    }
    if (ctx.get('authorization') !== '' || form.client_secret !== undefined)
      return fail(ctx, 401, 'invalid_client', 'a client with a metadata document never authenticates with a secret');

    let result: ClientAuthentication;
    try {
      result = await gateway.authenticateClient({
        client_id: clientId,
        ...(assertionType !== undefined ? { client_assertion_type: assertionType } : {}),
        ...(assertion !== undefined ? { client_assertion: assertion } : {}),
      });
    } catch (e) {
      logger.error({ err: String(e), client_id: clientId }, 'the gateway could not authenticate a client');
      return fail(ctx, 503, 'temporarily_unavailable', 'client authentication is unavailable; try again shortly');
    }
    const log = { client_id: clientId, endpoint: ctx.path, method: result.method, reason: result.reason };
    if (!result.authenticated) {
      logger.info(log, 'client authentication refused by the gateway');
      const pending = result.error === 'temporarily_unavailable';
      return fail(
        ctx,
        pending ? 503 : 401,
        result.error ?? 'invalid_client',
        result.error_description ?? 'client authentication failed',
      );
    }
    logger.info(log, 'client authenticated by the gateway');
    delete form.client_assertion;
    delete form.client_assertion_type;
    form.client_id = clientId;
    await next();
  };
}
