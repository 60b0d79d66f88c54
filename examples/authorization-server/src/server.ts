import { CimdGateway, GrpcGatewayClient, HttpGatewayClient } from '@cimd/client';
import * as grpc from '@grpc/grpc-js';
import express, { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { authorizeGate } from './authorize-gate';
import { clientAuthentication } from './client-authentication';
import type { AuthorizationServerConfig } from './config';
import { consentRoutes } from './consent';
import { revokeEndedGrants } from './grant-revocation';
import { MemoryStore } from './memory-store';
import { errorPage } from './pages';
import { createProvider, metadataMembers, ROUTES } from './provider';

export interface RunningAuthorizationServer {
  server: Server;
  /** Settles when the revocation feed stops: rejected when it failed (the AS must not go on). */
  revocations: Promise<void>;
  close(): Promise<void>;
}

/**
 * The example AS: oidc-provider behind express, with cimd-gateway deciding about every CIMD
 * client: at the authorization endpoint (authorizeGate), on the consent page (consentRoutes),
 * at the endpoints that authenticate clients (clientAuthentication), in the client look-up
 * (GatewayClients), and through the tenant's revocation events (revokeEndedGrants).
 */
export async function startAuthorizationServer(
  config: AuthorizationServerConfig,
  logger: Logger,
): Promise<RunningAuthorizationServer> {
  const gateway = new HttpGatewayClient({
    url: config.gateway.url,
    tenant: config.gateway.tenant,
    token: config.gateway.apiKey,
  });
  // The revocation feed: gRPC WatchEvents when the gateway's gRPC address is given, else HTTP polling.
  const feed: CimdGateway = config.gateway.grpc
    ? new GrpcGatewayClient({
        address: config.gateway.grpc,
        tenant: config.gateway.tenant,
        token: config.gateway.apiKey,
        credentials: grpc.credentials.createInsecure(),
      })
    : gateway;
  const members = await gateway.authorizationServerMetadata();

  const store = new MemoryStore();
  const provider = createProvider(config, gateway, store);
  provider.use(metadataMembers(members));
  provider.use(authorizeGate(gateway, { path: ROUTES.authorization, issuer: config.issuer }, logger));
  // Every route at which oidc-provider authenticates clients (PAR is off).
  provider.use(clientAuthentication(gateway, [ROUTES.token, ROUTES.introspection, ROUTES.revocation], logger));

  const app = express();
  app.disable('x-powered-by');
  app.use(consentRoutes(provider, gateway, logger));
  app.use(provider.callback());
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: err.message }, 'an interaction failed');
    res
      .status(500)
      .type('html')
      .send(errorPage('server_error', 'something went wrong; start again from the application'));
  });

  const controller = new AbortController();
  const revocations = revokeEndedGrants(feed.events({ signal: controller.signal }), gateway, store, logger);
  revocations.catch((e: unknown) => logger.error({ err: String(e) }, 'the revocation feed failed'));

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  logger.info({ issuer: config.issuer, tenant: config.gateway.tenant }, 'authorization server listening');
  return {
    server,
    revocations,
    async close() {
      controller.abort();
      await revocations.catch(() => undefined);
      feed.close();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
