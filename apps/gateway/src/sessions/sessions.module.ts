import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { TenantsModule } from '../tenants/tenants.module';
import { RevalidationScheduler } from './revalidation.scheduler';
import { SessionsController } from './sessions.controller';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/** The sessions registry, and the scheduled revalidation of the clients that have sessions. */
@Module({
  imports: [TenantsModule, ClientsModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, RevalidationScheduler],
  exports: [SessionsRepository, SessionsService],
})
export class SessionsModule {}
