import { z } from 'zod';
import { StoredRuleCodeSchema } from '../cache/cache-entry';
import type { FetchReason } from '../cache/cache-transitions';
import type { RuleCode } from '../findings';
import type { FetchOutcome, FetchOutcomeKind } from './fetch-outcome';

/** What follows an attempt: a retry with backoff, the failure cooldown, a confirmation fetch, or the next refresh. */
export const NEXT_ATTEMPT_KINDS = ['retry', 'cooldown', 'confirm', 'refresh'] as const;
export type NextAttemptKind = (typeof NEXT_ATTEMPT_KINDS)[number];

/**
 * One fetch of one client_id as the fetcher records it for operators (the attempt log): when,
 * why, how it ended and when the next one is due. Kept whether or not a document came of it, so
 * that a client whose host never answered still has a history; never read as a document
 * (SPEC-NOTES 15). Times are ms since the epoch.
 */
export const FetchAttemptSchema = z.object({
  at: z.number(),
  reason: z.string().max(32),
  /** 1 for a job's first try, 2 for its first retry, … */
  attempt: z.number().int().min(1),
  outcome: z.string().max(32),
  /** The first finding of a failed attempt (fetch.dns_failed, fetch.timeout, document.invalid_field_type, …). */
  code: StoredRuleCodeSchema.optional(),
  message: z.string().max(1000).optional(),
  http_status: z.number().int().optional(),
  duration_ms: z.number().min(0),
  next: z.object({ kind: z.enum(NEXT_ATTEMPT_KINDS), at: z.number() }).optional(),
});

export type FetchAttempt = z.output<typeof FetchAttemptSchema>;

const SUCCESSFUL: ReadonlySet<FetchOutcomeKind> = new Set<FetchOutcomeKind>(['ok', 'not_modified']);

/** Whether the attempt produced (or extended) a valid document. */
export function attemptSucceeded(attempt: Pick<FetchAttempt, 'outcome'>): boolean {
  return SUCCESSFUL.has(attempt.outcome as FetchOutcomeKind);
}

/** The attempt log's record of one fetch's outcome. */
export function fetchAttemptOf(
  outcome: FetchOutcome,
  context: {
    at: number;
    reason: FetchReason;
    attempt: number;
    durationMs: number;
    next?: { kind: NextAttemptKind; at: number };
  },
): FetchAttempt {
  const record: FetchAttempt = {
    at: context.at,
    reason: context.reason,
    attempt: context.attempt,
    outcome: outcome.outcome,
    duration_ms: Math.max(0, Math.round(context.durationMs)),
  };
  const status =
    outcome.outcome === 'ok'
      ? 200
      : outcome.outcome === 'not_modified'
        ? 304
        : 'status' in outcome
          ? outcome.status
          : undefined;
  if (status !== undefined) record.http_status = status;
  const first = 'errors' in outcome ? outcome.errors[0] : undefined;
  if (first) {
    record.code = first.code;
    record.message = first.message.length > 1000 ? `${first.message.slice(0, 999)}…` : first.message;
  }
  if (context.next) record.next = context.next;
  return record;
}

/** Stored attempts, newest first; what does not parse (another version's record) is left out. */
export function parseFetchAttempts(raw: readonly string[]): FetchAttempt[] {
  const attempts: FetchAttempt[] = [];
  for (const json of raw) {
    try {
      const parsed = FetchAttemptSchema.safeParse(JSON.parse(json));
      if (parsed.success) attempts.push(parsed.data);
    } catch {
      // not JSON: skipped
    }
  }
  return attempts;
}

/** The failure an AS should hear about: the latest attempt, when it failed. */
export function lastFailure(attempts: readonly FetchAttempt[]): (FetchAttempt & { code: RuleCode }) | undefined {
  const latest = attempts[0];
  return latest && !attemptSucceeded(latest) && latest.code !== undefined
    ? (latest as FetchAttempt & { code: RuleCode })
    : undefined;
}
