import type { JobsOptions } from 'bullmq';
import { createHmac } from 'node:crypto';
import { z } from 'zod';

/**
 * Webhooks are delivered by the fetcher (the one component allowed to reach the internet, through
 * the SSRF-hardened client); the gateway signs them and keeps the delivery log.
 */
export const WEBHOOK_QUEUE = 'cimd-webhooks';
export const WEBHOOK_JOB = 'deliver';

export const WebhookJobDataSchema = z.object({
  delivery_id: z.string(),
  tenant_id: z.string(),
  url: z.string(),
  /** The exact bytes to POST (JSON), already signed. */
  body: z.string(),
  headers: z.record(z.string(), z.string()),
});
export type WebhookJobData = z.output<typeof WebhookJobDataSchema>;

export interface WebhookJobResult {
  status: number;
}

export const DEFAULT_WEBHOOK_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5000 },
  // Kept a while so the gateway can reconcile its delivery log with the queue after a restart.
  removeOnComplete: { age: 86_400 },
  removeOnFail: { age: 7 * 86_400 },
};

/**
 * `X-CIMD-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The
 * timestamp is when the delivery was created; retries send the same bytes, so receivers
 * deduplicate on X-CIMD-Event-Id rather than rejecting old timestamps.
 */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
