import { Module } from '@nestjs/common';
import { AuthorizeModule } from '../authorize/authorize.module';
import { ClientAuthModule } from '../client-auth/client-auth.module';
import { ClientsModule } from '../clients/clients.module';
import { EventsModule } from '../events/events.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TenantsModule } from '../tenants/tenants.module';
import { CheckAuthorizationRpc } from './check-authorization.rpc';
import { GatewayGrpcController } from './gateway-grpc.controller';
import { GrpcServerHandle } from './grpc-server';

/** cimd.v1.Gateway: the HTTP API's operations over gRPC, for internal callers. */
@Module({
  imports: [TenantsModule, AuthorizeModule, ClientAuthModule, ClientsModule, SessionsModule, EventsModule],
  controllers: [GatewayGrpcController],
  providers: [GrpcServerHandle, CheckAuthorizationRpc],
  exports: [GrpcServerHandle],
})
export class GrpcModule {}
