import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AssertionVerifier } from './assertion-verifier';
import { ClientAuthFastPath } from './client-auth-fast-path';
import { ClientAuthController } from './client-auth.controller';
import { ClientAuthRepository } from './client-auth.repository';
import { ClientAuthService } from './client-auth.service';

/** Client authentication at tenants' token endpoints: public clients and private_key_jwt assertions. */
@Module({
  imports: [TenantsModule, ClientsModule],
  controllers: [ClientAuthController],
  providers: [ClientAuthService, ClientAuthFastPath, AssertionVerifier, ClientAuthRepository],
  exports: [ClientAuthService],
})
export class ClientAuthModule {}
