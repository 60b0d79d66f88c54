import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AuthorizeFastPath } from './authorize-fast-path';
import { AuthorizeController } from './authorize.controller';
import { AuthorizeService } from './authorize.service';

/** The authorize check: a tenant's decision on one authorization request. */
@Module({
  imports: [TenantsModule, ClientsModule],
  controllers: [AuthorizeController],
  providers: [AuthorizeService, AuthorizeFastPath],
  exports: [AuthorizeService],
})
export class AuthorizeModule {}
