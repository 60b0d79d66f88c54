import { Module } from '@nestjs/common';
import { ClientFetchService } from './client-fetch.service';
import { FailureCooldown } from './failure-cooldown';
import { FetchWorker } from './fetch-worker';
import { OriginRateLimiter } from './origin-rate-limiter';

/** Fetching client documents: the queue's worker, the fetch and its write-back, and their guards. */
@Module({
  providers: [FetchWorker, ClientFetchService, OriginRateLimiter, FailureCooldown],
  exports: [FetchWorker, ClientFetchService],
})
export class FetchModule {}
