import { ClientEvent } from '@cimd/core';
import { parseEventFields, RedisKeys } from '@cimd/contracts';
import { Injectable } from '@nestjs/common';
import { RedisClient, RedisConnections } from './redis-connections';

/** One entry read from the stream: its id, and the event unless the entry was malformed or trimmed. */
export interface StreamEntry {
  streamId: string;
  event: ClientEvent | undefined;
}

/** A consumer of the group as XINFO CONSUMERS reports it. */
export interface GroupConsumer {
  name: string;
  pending: number;
  idleMs: number;
}

type RawEntries = [string, string[] | null][];

/**
 * The reading side of the client event stream (the fetcher appends through
 * ClientCacheRepository.write): a consumer group, at-least-once, each entry acknowledged once
 * its effects are committed. Blocking reads hold a connection of their own.
 */
@Injectable()
export class ClientEventStream {
  private blocking?: RedisClient;

  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  async ensureGroup(group: string): Promise<void> {
    try {
      await this.reader().xgroup('CREATE', this.keys.events, group, '0', 'MKSTREAM');
    } catch (e) {
      if (!(e as Error).message.includes('BUSYGROUP')) throw e;
    }
  }

  /** New entries (`pending: false`), or this consumer's own entries read but not acknowledged. */
  async read(
    group: string,
    consumer: string,
    options: { count: number; blockMs: number; pending: boolean },
  ): Promise<StreamEntry[]> {
    const reply = (await this.reader().xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      options.count,
      'BLOCK',
      options.blockMs,
      'STREAMS',
      this.keys.events,
      options.pending ? '0' : '>',
    )) as [string, RawEntries][] | null;
    return entries(reply?.[0]?.[1] ?? []);
  }

  async ack(group: string, streamId: string): Promise<void> {
    await this.reader().xack(this.keys.events, group, streamId);
  }

  /** Entries idle for `minIdleMs` on other consumers, moved to `consumer`, one page after `cursor`. */
  async claim(
    group: string,
    consumer: string,
    minIdleMs: number,
    cursor: string,
  ): Promise<{ next: string; entries: StreamEntry[] }> {
    const [next, raw] = (await this.reader().xautoclaim(
      this.keys.events,
      group,
      consumer,
      minIdleMs,
      cursor,
      'COUNT',
      100,
    )) as [string, RawEntries, string[]?];
    return { next, entries: entries(raw) };
  }

  async consumers(group: string): Promise<GroupConsumer[]> {
    const rows = (await this.reader().xinfo('CONSUMERS', this.keys.events, group)) as unknown[][];
    return rows.map((fields) => {
      const info = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
      return { name: String(info.get('name')), pending: Number(info.get('pending')), idleMs: Number(info.get('idle')) };
    });
  }

  async deleteConsumer(group: string, name: string): Promise<void> {
    await this.reader().xgroup('DELCONSUMER', this.keys.events, group, name);
  }

  /**
   * When the oldest entry still in the stream was added (ms since the epoch, from its id), or
   * undefined for an empty stream. Entries before it were trimmed and can never be delivered again.
   */
  async oldestEntryTime(): Promise<number | undefined> {
    const [first] = (await this.reader().xrange(this.keys.events, '-', '+', 'COUNT', 1)) as RawEntries;
    return first ? Number(first[0].split('-')[0]) : undefined;
  }

  /** Stop reading: a blocked read ends with an error, which the reader's loop takes as the signal to stop. */
  close(): void {
    this.blocking?.disconnect();
  }

  // XREADGROUP BLOCK holds its connection: the consumer has one of its own, which waits for Redis.
  private reader(): RedisClient {
    this.blocking ??= this.connections.get('client-event-stream', 'waiting');
    return this.blocking;
  }
}

function entries(raw: RawEntries): StreamEntry[] {
  // Null fields: the entry was trimmed from the stream before it could be read.
  return raw.map(([streamId, fields]) => ({ streamId, event: fields ? parseEventFields(fields) : undefined }));
}
