import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { TenantsModule } from '../tenants/tenants.module';
import { FleetClientsController, TenantClientsController } from './client-directory.controller';
import { ClientDirectoryRepository } from './client-directory.repository';
import { ClientDirectoryService } from './client-directory.service';
import { PolicyDryRunController } from './policy-dry-run.controller';
import { PolicyDryRunService } from './policy-dry-run.service';
import { WhoamiController } from './whoami.controller';

/**
 * The operator's questions (the console asks them): which clients the fleet or a tenant knows,
 * why one is allowed or refused, and what a policy would change before it is saved. Reads only.
 */
@Module({
  imports: [TenantsModule, ClientsModule],
  controllers: [FleetClientsController, TenantClientsController, PolicyDryRunController, WhoamiController],
  providers: [ClientDirectoryRepository, ClientDirectoryService, PolicyDryRunService],
})
export class InspectionModule {}
