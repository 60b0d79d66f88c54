import type { FetchReason } from '@cimd/core';
import { CLIENT_ID_MAX_LENGTH } from '@cimd/core';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { clientKey } from './client-key';

/** Queue, job names and default job options shared by the gateway (producer) and the fetcher (worker). */
export const FETCH_QUEUE = 'cimd-fetch';
export const FETCH_JOB = 'fetch';
export const FETCH_REASONS = [
  'miss',
  'refresh',
  'scheduled',
  'admin',
  'confirm',
  'keys',
] as const satisfies readonly FetchReason[];

/** Ids only: the worker reloads everything else from Redis. */
export const FetchJobDataSchema = z.object({
  client_id: z.string().min(1).max(CLIENT_ID_MAX_LENGTH),
  reason: z.enum(FETCH_REASONS),
});
export type FetchJobData = z.output<typeof FetchJobDataSchema>;

/** What a finished fetch job returns (kept by BullMQ for whoever looks at the job). */
export interface FetchJobResult {
  client_id: string;
  outcome: string;
  status?: 'valid' | 'invalid' | 'gone';
  /** Not fetched: cooling down after failures, or the entry is already newer than the request. */
  skipped?: 'cooldown' | 'fresh';
  /** A valid client's document vanished or broke once; a confirmation fetch is scheduled. */
  suspect?: boolean;
}

/**
 * One job id per client_id: while a fetch of a client is waiting, delayed (backing off) or
 * running, adding another is a no-op, so a whole fleet makes one fetch per client at a time.
 */
export function fetchJobId(clientId: string): string {
  return `fetch-${clientKey(clientId)}`;
}

/**
 * An operator's refresh: its own id, so that a fetch of the client already running (whose job
 * would absorb an add under the shared id) does not swallow a request for a look after now.
 */
export function adminFetchJobId(clientId: string): string {
  return `admin-${clientKey(clientId)}`;
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

/**
 * The one way a fetch job is made, for Queue.add and Queue.addBulk alike: a confirmation (with a
 * delay) and an operator's refresh each have an id of their own (neither may be absorbed by a fetch
 * already waiting or running); every other reason shares the client's fetch id.
 */
export function fetchJob(
  clientId: string,
  reason: FetchReason,
  options: { delayMs?: number } = {},
): { name: typeof FETCH_JOB; data: FetchJobData; opts: JobsOptions } {
  return {
    name: FETCH_JOB,
    data: { client_id: clientId, reason },
    opts: {
      ...DEFAULT_FETCH_JOB_OPTIONS,
      jobId:
        reason === 'confirm'
          ? confirmJobId(clientId)
          : reason === 'admin'
            ? adminFetchJobId(clientId)
            : fetchJobId(clientId),
      ...(options.delayMs !== undefined ? { delay: options.delayMs } : {}),
    },
  };
}
