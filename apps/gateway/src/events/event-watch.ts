import { CHANNELS, TenantEvent } from '@cimd/contracts';
import { RedisPubSub } from '@cimd/store';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { Observable } from 'rxjs';
import { DomainError, slowConsumer, unavailable } from '../common/domain-error';
import type { TenantEventsRepository } from './tenant-events.repository';

/** How a WatchEvents stream reads the log and how much it holds for a slow reader. */
export interface WatchLimits {
  /** Stored events read per query while catching up. */
  pageSize: number;
  /** New events held for one stream while it catches up or its reader is behind; one more ends it. */
  maxPending: number;
  /**
   * How often a live stream reads the log again: Redis pub/sub drops what is published while
   * the subscriber connection is down, and the log has it.
   */
  resyncMs: number;
}

export const WATCH_LIMITS: WatchLimits = { pageSize: 500, maxPending: 1000, resyncMs: 30_000 };

/** One stream's end of the live feed. */
export interface LiveWatcher {
  event(event: TenantEvent): void;
  /** The gateway is shutting down: the stream must end. */
  closed(): void;
}

/** The part of a grpc-js server stream that tells whether it can take more: a Node Writable. */
export type Backpressured = EventEmitter & { readonly writableNeedDrain: boolean };

export function shuttingDown(): DomainError {
  return unavailable('the gateway is shutting down; reconnect with after_id = the last event id received');
}

export function tooSlow(maxPending: number): DomainError {
  return slowConsumer(
    `more than ${maxPending} new events waited for this stream while it was read too slowly; reconnect with after_id = the last event id received`,
  );
}

/**
 * The live tenant events of every gateway (the tenant-events channel) for this process's
 * WatchEvents streams: one subscription, whatever the number of streams, each stream getting
 * its own tenant's events only. Streams are ended when the application shuts down, so that
 * draining the gRPC server does not wait for streams that never end by themselves.
 */
@Injectable()
export class LiveTenantEvents implements OnModuleDestroy {
  private readonly watchers = new Map<string, Set<LiveWatcher>>();
  private listening?: Promise<void>;
  private closing = false;

  constructor(private readonly pubsub: RedisPubSub) {}

  /**
   * Deliver `tenant`'s live events to `watcher` from now on. Resolves once the subscription is
   * in place (while Redis is connected), so that every event published after that reaches the
   * watcher; returns the function that stops the delivery.
   */
  async watch(tenant: string, watcher: LiveWatcher): Promise<() => void> {
    if (this.closing) throw shuttingDown();
    let set = this.watchers.get(tenant);
    if (!set) this.watchers.set(tenant, (set = new Set()));
    set.add(watcher);
    const stop = () => {
      const current = this.watchers.get(tenant);
      current?.delete(watcher);
      if (current?.size === 0) this.watchers.delete(tenant);
    };
    try {
      this.listening ??= this.pubsub.subscribe(CHANNELS.tenantEvents, (event) => this.dispatch(event));
      await this.listening;
    } catch (e) {
      stop();
      throw e;
    }
    return stop;
  }

  /** Streams open now. */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  onModuleDestroy(): void {
    this.closing = true;
    const all = [...this.watchers.values()].flatMap((set) => [...set]);
    this.watchers.clear();
    for (const watcher of all) watcher.closed();
  }

  private dispatch(event: TenantEvent): void {
    const set = this.watchers.get(event.tenant);
    if (!set) return;
    for (const watcher of [...set]) watcher.event(event);
  }
}

/**
 * One tenant's events after `afterId`: every stored one (read in pages), then the live ones,
 * with no gap and no duplicate between the two. The live feed is joined first and its events
 * held while the log is read; then the held events are sent, skipping those the log already
 * gave (ids increase: compared as integers); every `resyncMs` it reads the log again, for
 * what the live feed lost. Holds at most `maxPending` live events, and
 * sends only when `call` can take more, so a slow reader costs bounded memory: when more
 * pile up, the stream ends with `slow_consumer` (RESOURCE_EXHAUSTED) and the reader resumes.
 */
export function watchTenantEvents(
  stored: Pick<TenantEventsRepository, 'list'>,
  live: Pick<LiveTenantEvents, 'watch'>,
  call: Backpressured,
  tenant: string,
  afterId: string,
  limits: WatchLimits = WATCH_LIMITS,
): Observable<TenantEvent> {
  return new Observable<TenantEvent>((subscriber) => {
    const abort = new AbortController();
    const { signal } = abort;
    /** The id of the last event sent (or the caller's after_id). */
    let last = BigInt(afterId);
    const pending: TenantEvent[] = [];
    let wake: (() => void) | undefined;
    signal.addEventListener('abort', () => wake?.(), { once: true });

    const fail = (e: unknown) => {
      if (signal.aborted) return;
      abort.abort();
      subscriber.error(e);
    };

    const watcher: LiveWatcher = {
      event: (event) => {
        if (signal.aborted || BigInt(event.id) <= last) return;
        if (pending.length >= limits.maxPending) return fail(tooSlow(limits.maxPending));
        pending.push(event);
        wake?.();
      },
      closed: () => fail(shuttingDown()),
    };

    const send = async (event: TenantEvent) => {
      const id = BigInt(event.id);
      if (id <= last) return;
      if (call.writableNeedDrain) await once(call, 'drain', { signal });
      if (signal.aborted) return;
      last = id;
      subscriber.next(event);
    };

    /** Everything the log has after the last event sent; whatever is published meanwhile waits in `pending`. */
    const catchUp = async () => {
      for (;;) {
        const page = await stored.list(tenant, last.toString(), limits.pageSize);
        for (const event of page) {
          if (signal.aborted) return;
          await send(event);
        }
        if (page.length < limits.pageSize) return;
      }
    };

    const run = async () => {
      const stop = await live.watch(tenant, watcher);
      if (signal.aborted) {
        stop();
        return;
      }
      signal.addEventListener('abort', stop, { once: true });
      await catchUp();
      // Then live, in the order published, with a look at the log now and then.
      let resyncAt = Date.now() + limits.resyncMs;
      while (!signal.aborted) {
        if (Date.now() >= resyncAt) {
          await catchUp();
          resyncAt = Date.now() + limits.resyncMs;
          continue;
        }
        const event = pending.shift();
        if (event) {
          await send(event);
          continue;
        }
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, resyncAt - Date.now());
        });
        clearTimeout(timer);
        wake = undefined;
      }
    };

    run().catch((e: unknown) => fail(e));
    return () => abort.abort();
  });
}
