import { AuthorizeCheck, CimdGateway, isGatewayError, mayRedirectError } from '@cimd/client';
import express, { Request, Response, Router } from 'express';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { authorizeRequestOf } from './authorize-gate';
import type { Form } from './form-body';
import { isClientIdUrl } from './gateway-clients';
import { consentPage, contentSecurityPolicy, errorPage } from './pages';

/** The example's one user. A real AS signs its user in where this signs this one in. */
export const DEMO_ACCOUNT = 'demo-user';

/** How long a grant lasts: oidc-provider's ttl.Grant, and the expiry of its gateway session. */
export const GRANT_TTL_SECONDS = 14 * 86_400;

/**
 * The interaction pages oidc-provider sends the user to: sign-in (automatic here) and consent.
 * The consent page shows the gateway's decision, asked again now (a cache hit, and a client
 * that vanished since the authorization request is caught); approving it saves the grant and
 * registers it with the gateway as a session, so that it ends when the client's document does.
 */
export function consentRoutes(provider: Provider, gateway: CimdGateway, logger: Logger): Router {
  const router = Router();
  router.use('/interaction', (_req, res, next) => {
    res.set('cache-control', 'no-store');
    res.set('content-security-policy', contentSecurityPolicy());
    next();
  });

  const refuse = async (
    req: Request,
    res: Response,
    decision: Pick<AuthorizeCheck, 'decision' | 'redirect' | 'error' | 'error_description'>,
  ) => {
    const error = decision.error ?? 'access_denied';
    const description = decision.error_description ?? 'the application could not be verified';
    // A verified redirect_uri may learn of the refusal; otherwise the user only sees it.
    if (mayRedirectError(decision))
      return provider.interactionFinished(
        req,
        res,
        { error, error_description: description },
        { mergeWithLastSubmission: false },
      );
    res
      .status(decision.decision === 'pending' ? 503 : 400)
      .type('html')
      .send(errorPage(error, description));
  };

  router.get('/interaction/:uid', async (req, res) => {
    const { uid, prompt, params } = await provider.interactionDetails(req, res);
    if (prompt.name === 'login')
      return provider.interactionFinished(
        req,
        res,
        { login: { accountId: DEMO_ACCOUNT } },
        { mergeWithLastSubmission: false },
      );
    if (!isClientIdUrl(params.client_id))
      return res.status(400).type('html').send(errorPage('invalid_client', 'this example serves CIMD clients only'));
    const decision = await gateway.checkAuthorization(authorizeRequestOf(params as Form));
    if (decision.decision !== 'allow') return refuse(req, res, decision);
    const missing = (prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>;
    const access = Object.entries(missing).map(([resource, scopes]) => ({ resource, scopes }));
    res.set('content-security-policy', contentSecurityPolicy(decision.client?.logo_url));
    res.type('html').send(consentPage({ uid, account: DEMO_ACCOUNT, decision, access }));
  });

  router.post('/interaction/:uid/confirm', express.urlencoded({ extended: false }), async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    const clientId = params.client_id as string;
    const accountId = session?.accountId;
    if (prompt.name !== 'consent' || accountId === undefined)
      return res.status(400).type('html').send(errorPage('invalid_request', 'nothing to consent to here'));

    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId });
    if (!grant) return res.status(400).type('html').send(errorPage('invalid_request', 'the grant has ended'));
    const { missingOIDCScope, missingResourceScopes } = prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();

    // The gateway ends this session (and the AS this grant) when the client's document vanishes.
    try {
      await gateway.registerSession({
        session_id: grantId,
        client_id: clientId,
        subject: accountId,
        expires_at: new Date(Date.now() + GRANT_TTL_SECONDS * 1000),
      });
    } catch (e) {
      await grant.destroy();
      logger.warn({ err: String(e), client_id: clientId }, 'could not register the grant with the gateway; refused');
      const gone = isGatewayError(e, 'conflict');
      return res
        .status(gone ? 400 : 503)
        .type('html')
        .send(
          gone
            ? errorPage('invalid_client', 'the application no longer exists: its metadata document is gone or invalid')
            : errorPage('temporarily_unavailable', 'the sign-in could not be recorded; try again shortly'),
        );
    }
    logger.info(
      { grant_id: grantId, client_id: clientId, subject: accountId },
      'grant saved and registered as a gateway session',
    );
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.get('/interaction/:uid/abort', async (req, res) => {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the user denied the request' },
      { mergeWithLastSubmission: false },
    );
  });

  return router;
}
