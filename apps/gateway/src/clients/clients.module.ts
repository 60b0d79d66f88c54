import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { ClientResolver } from './client-resolver';
import { ClientsController } from './clients.controller';
import { ClientsService } from './clients.service';
import { FetchRequests } from './fetch-requests';
import { LogosController } from './logos.controller';

/** The shared client cache as the APIs show it, the logos, and the requests for fetches. */
@Module({
  imports: [TenantsModule],
  controllers: [ClientsController, LogosController],
  providers: [ClientsService, FetchRequests, ClientResolver],
  exports: [ClientsService, FetchRequests, ClientResolver],
})
export class ClientsModule {}
