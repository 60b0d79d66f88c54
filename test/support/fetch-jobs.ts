import { fetchJob, FetchJobData, FetchJobResult } from '@cimd/contracts';
import type { FetchReason } from '@cimd/core';
import type { JobsOptions, Queue } from 'bullmq';

/** Add the fetch job the gateway would add, with job options a test changes (a short backoff, a timestamp). */
export async function enqueueFetch(
  queue: Queue<FetchJobData, FetchJobResult>,
  clientId: string,
  reason: FetchReason,
  options: JobsOptions = {},
): Promise<void> {
  const job = fetchJob(clientId, reason);
  await queue.add(job.name, job.data, { ...job.opts, ...options });
}
