import type { JobsOptions, Queue } from 'bullmq';
import { clientKey } from './client-key';

/** Queue, job names and default job options shared by the gateway (producer) and the fetcher (worker). */
export const FETCH_QUEUE = 'cimd-fetch';
export const FETCH_JOB = 'fetch';

export type FetchReason = 'miss' | 'refresh' | 'scheduled' | 'admin' | 'confirm';

/** Ids only: the worker reloads everything else from Redis. */
export interface FetchJobData {
  client_id: string;
  reason: FetchReason;
}

/** What a finished fetch job returns (BullMQ keeps it for listeners such as a waiting gateway). */
export interface FetchJobResult {
  client_id: string;
  outcome: string;
  status?: 'valid' | 'invalid' | 'gone';
  /** Not fetched: cooling down after failures, or the entry is already newer than the request. */
  skipped?: 'cooldown' | 'fresh';
  /** A valid client's document vanished or broke once; a confirmation fetch is scheduled. */
  suspect?: boolean;
}

/** Published on RedisKeys.fetchDone after every fetch attempt, so waiting gateways stop waiting. */
export interface FetchDoneMessage {
  client_key: string;
  outcome: string;
  /** True when the outcome changed the cache entry (anything but transient or cooldown). */
  written: boolean;
}

/**
 * One job id per client_id: while a fetch of a client is waiting, delayed (backing off) or
 * running, adding another is a no-op, so a whole fleet makes one fetch per client at a time.
 */
export function fetchJobId(clientId: string): string {
  return `fetch-${clientKey(clientId)}`;
}

/** The delayed second look at a client whose document vanished (one per client at a time). */
export function confirmJobId(clientId: string): string {
  return `confirm-${clientKey(clientId)}`;
}

/** Backoff type implemented by the fetch worker: exponential from `delay`, or longer when the origin sent Retry-After. */
export const FETCH_BACKOFF_TYPE = 'fetch-backoff';

export const DEFAULT_FETCH_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: FETCH_BACKOFF_TYPE, delay: 2000 },
  // Removed when done, so the id is free for the next fetch; outcomes live in the cache entry and events.
  removeOnComplete: true,
  removeOnFail: true,
};

export async function enqueueFetch(
  queue: Queue<FetchJobData, FetchJobResult>,
  clientId: string,
  reason: FetchReason,
  options: JobsOptions = {},
): Promise<void> {
  await queue.add(
    FETCH_JOB,
    { client_id: clientId, reason },
    { ...DEFAULT_FETCH_JOB_OPTIONS, ...options, jobId: fetchJobId(clientId) },
  );
}
