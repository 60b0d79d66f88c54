import { webhookSigningKey } from '@cimd/core';
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
 * Deprecated: `X-CIMD-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 * keyed with the secret string as given. The timestamp is when the delivery was created; retries
 * send the same bytes, so receivers deduplicate on X-CIMD-Event-Id rather than rejecting old
 * timestamps. Sent beside the Standard Webhooks headers for one deprecation period.
 */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * The Standard Webhooks signature (standardwebhooks.com): `v1,<base64 HMAC-SHA256(key,
 * "<webhook-id>.<webhook-timestamp>.<body>")>`, the key being webhookSigningKey(secret).
 */
export function standardWebhookSignature(secret: string, id: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', webhookSigningKey(secret)).update(`${id}.${unixSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The signed headers of one attempt: its time is the attempt's, its id the delivery's (the same on every retry). */
export function standardWebhookHeaders(
  secret: string,
  deliveryId: string,
  unixSeconds: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(unixSeconds),
    'webhook-signature': standardWebhookSignature(secret, deliveryId, unixSeconds, body),
  };
}
