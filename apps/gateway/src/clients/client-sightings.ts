import type { AuthorizeDecision, AuthorizeRequest } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { Sighting, TenantClientsRepository } from './tenant-clients.repository';

/** How sightings are buffered and kept. */
export const SIGHTINGS = {
  flushMs: 1000,
  /** (tenant, client) pairs held (those checked since the flush before last); more are dropped until one is let go. */
  maxPending: 10_000,
  /** A tenant's client not asked about for this long is forgotten. */
  keepMs: 30 * 86_400_000,
  pruneEveryMs: 3_600_000,
} as const;

/**
 * Which clients each tenant asks about, and its last decision for each: recorded in memory on
 * the authorize check (a map update, no I/O on the request's time) and merged into PostgreSQL
 * once a second, in one statement. Best effort: a batch that cannot be written is dropped and
 * logged (the next checks record the clients again); at most `maxPending` pairs are held.
 */
@Injectable()
export class ClientSightings implements OnModuleInit, BeforeApplicationShutdown {
  private pending = new Map<string, Sighting>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private lastPrune = Date.now();
  dropped = 0;

  constructor(
    private readonly repository: TenantClientsRepository,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), SIGHTINGS.flushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  /** On every check: an update in place of the pair's pending sighting (no allocation once it exists). */
  record(tenant: string, request: AuthorizeRequest, decision: AuthorizeDecision): void {
    const key = `${tenant}\n${request.client_id}`;
    const previous = this.pending.get(key);
    if (previous) {
      previous.seenAt = Date.now();
      previous.checks += 1;
      previous.decision = decision.decision;
      previous.reason = decision.reason ?? null;
      // The same parameters again keep the request already held: nothing a check made outlives it.
      if (!sameRequest(previous.request, request)) previous.request = request;
      return;
    }
    if (this.pending.size >= SIGHTINGS.maxPending) {
      this.dropped += 1;
      return;
    }
    this.pending.set(key, {
      tenant,
      clientId: request.client_id,
      seenAt: Date.now(),
      checks: 1,
      decision: decision.decision,
      reason: decision.reason ?? null,
      request,
    });
  }

  /** Write what is pending now (and, hourly, forget clients unseen for long). */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /**
   * The pairs checked since the last flush, as copies (the held ones go on counting); a pair not
   * checked for a whole flush is let go. Held pairs are kept rather than made again every second,
   * so they do not fill the old generation with garbage.
   */
  private async write(): Promise<void> {
    const batch: Sighting[] = [];
    for (const [key, sighting] of this.pending) {
      if (sighting.checks === 0) {
        this.pending.delete(key);
        continue;
      }
      batch.push({ ...sighting });
      sighting.checks = 0;
    }
    try {
      await this.repository.merge(batch);
      if (Date.now() - this.lastPrune >= SIGHTINGS.pruneEveryMs) {
        this.lastPrune = Date.now();
        await this.repository.prune(new Date(Date.now() - SIGHTINGS.keepMs));
      }
    } catch (e) {
      this.logger.warn(
        { err: (e as Error).message, sightings: batch.length },
        'could not record the clients tenants asked about',
      );
    }
  }
}

function sameRequest(a: AuthorizeRequest, b: AuthorizeRequest): boolean {
  return (
    a.redirect_uri === b.redirect_uri &&
    a.response_type === b.response_type &&
    a.scope === b.scope &&
    a.code_challenge_method === b.code_challenge_method &&
    a.client_id === b.client_id
  );
}
