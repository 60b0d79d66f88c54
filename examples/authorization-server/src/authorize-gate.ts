import { AuthorizeCheck, AuthorizeRequest, CimdGateway, isGatewayError, mayRedirectError } from '@cimd/client';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { Form, param, readForm, RepeatedParameter } from './form-body';
import { isClientIdUrl } from './gateway-clients';
import { contentSecurityPolicy, errorPage } from './pages';

/** The authorize-check request of an authorization request's parameters. */
export function authorizeRequestOf(params: Form): AuthorizeRequest {
  const read = (name: string) => param(params, name);
  const [responseType, scope, method] = [read('response_type'), read('scope'), read('code_challenge_method')];
  return {
    client_id: read('client_id') ?? '',
    redirect_uri: read('redirect_uri') ?? '',
    ...(responseType !== undefined ? { response_type: responseType } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(method !== undefined ? { code_challenge_method: method } : {}),
  };
}

/** Show the user why the request stops here; the client is not told (no redirect). */
export function refuse(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('content-security-policy', contentSecurityPolicy());
  ctx.set('cache-control', 'no-store');
  ctx.type = 'html';
  ctx.body = errorPage(error, description);
}

/**
 * A denial the gateway says may go back to the client: to the redirect_uri it verified, with
 * `state` and `iss` (RFC 9207), in the query (or the fragment when the client asked for it).
 */
function redirectError(ctx: Context, params: Form, decision: AuthorizeCheck, issuer: string): boolean {
  const mode = param(params, 'response_mode') ?? 'query';
  if (mode !== 'query' && mode !== 'fragment') return false;
  const target = new URL(param(params, 'redirect_uri') ?? '');
  const answer = new URLSearchParams({
    error: decision.error ?? 'access_denied',
    ...(decision.error_description !== undefined ? { error_description: decision.error_description } : {}),
    ...(param(params, 'state') !== undefined ? { state: param(params, 'state') as string } : {}),
    iss: issuer,
  });
  if (mode === 'fragment') target.hash = answer.toString();
  else for (const [k, v] of answer) target.searchParams.append(k, v);
  ctx.redirect(target.href);
  return true;
}

/**
 * Before oidc-provider sees an authorization request of a CIMD client, cimd-gateway decides:
 * `allow` goes on to oidc-provider (which looks the client up through GatewayClients); a deny
 * the gateway marks `redirect: true` goes back to the verified redirect_uri; any other deny, and
 * a `pending` that outlived the client's retries, is an error page and never a redirect: the
 * redirect_uri is not known to be the client's (RFC 6749 §4.1.2.1).
 */
export function authorizeGate(
  gateway: CimdGateway,
  options: { path: string; issuer: string },
  logger: Logger,
): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== options.path) {
      await next();
      return;
    }
    const params: Form | undefined = ctx.method === 'POST' ? await readForm(ctx) : ctx.query;
    if (!params || !isClientIdUrl(params.client_id)) {
      await next();
      return;
    }
    let request: AuthorizeRequest;
    try {
      request = authorizeRequestOf(params);
    } catch (e) {
      if (!(e instanceof RepeatedParameter)) throw e;
      return refuse(ctx, 400, 'invalid_request', e.message);
    }
    if (request.redirect_uri === '') return refuse(ctx, 400, 'invalid_request', 'redirect_uri is required');

    let decision: AuthorizeCheck;
    try {
      decision = await gateway.checkAuthorization(request);
    } catch (e) {
      if (isGatewayError(e, 'invalid_request')) return refuse(ctx, 400, 'invalid_request', e.description);
      logger.error({ err: String(e), client_id: request.client_id }, 'the gateway could not decide');
      return refuse(ctx, 503, 'temporarily_unavailable', 'The sign-in service is unavailable; try again shortly.');
    }
    const log = {
      client_id: request.client_id,
      decision: decision.decision,
      reason: decision.reason,
      attempts: decision.attempts,
    };
    if (decision.decision === 'allow') {
      logger.info(log, 'authorization request allowed by the gateway');
      await next();
      return;
    }
    logger.info({ ...log, redirect: mayRedirectError(decision) }, 'authorization request refused by the gateway');
    if (mayRedirectError(decision) && redirectError(ctx, params, decision, options.issuer)) return;
    const pending = decision.decision === 'pending';
    refuse(
      ctx,
      pending ? 503 : 400,
      decision.error ?? (pending ? 'temporarily_unavailable' : 'invalid_request'),
      decision.error_description ?? 'The application could not be verified.',
    );
  };
}
