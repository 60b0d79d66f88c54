import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module';
import { ClientResolver } from './client-resolver';
import { ClientSightings } from './client-sightings';
import { ClientsController } from './clients.controller';
import { ClientsService } from './clients.service';
import { FetchRequests } from './fetch-requests';
import { LogosController } from './logos.controller';
import { TenantClientsRepository } from './tenant-clients.repository';

/**
 * The shared client cache as the APIs show it, the logos, the requests for fetches, and the
 * record of which clients each tenant asks about.
 */
@Module({
  imports: [TenantsModule],
  controllers: [ClientsController, LogosController],
  providers: [ClientsService, FetchRequests, ClientResolver, ClientSightings, TenantClientsRepository],
  exports: [ClientsService, FetchRequests, ClientResolver, ClientSightings, TenantClientsRepository],
})
export class ClientsModule {}
