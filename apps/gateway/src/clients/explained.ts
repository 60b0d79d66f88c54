import { FetchAttempt, Finding, RuleCode, RULES } from '@cimd/core';

/** Where a rule code came from on a client's page. */
export type FindingSource = 'client_id' | 'document' | 'fetch' | 'suspect' | 'decision' | 'trust';

/** A rule code with its explanation from the catalogue (docs/RULES.md) and where it points. */
export interface ExplainedFinding {
  code: string;
  source: FindingSource;
  /** error, warning or decision; `unknown` for a code this build's catalogue does not have (a newer fetcher's). */
  severity: string;
  /** The SPEC-NOTES item or RFC section of the rule. */
  spec?: string;
  /** The catalogue's sentence for the rule. */
  summary?: string;
  /** What was found, in this case. */
  message?: string;
  /** JSON path in the document (`redirect_uris[1]`), when the finding is about one field. */
  field?: string;
}

export function explain(code: string, source: FindingSource, detail: Partial<Finding> = {}): ExplainedFinding {
  const rule = (RULES as Record<string, { severity: string; spec: string; summary: string } | undefined>)[code];
  const explained: ExplainedFinding = { code, source, severity: rule?.severity ?? 'unknown' };
  if (rule) {
    explained.spec = rule.spec;
    explained.summary = rule.summary;
  }
  if (detail.message) explained.message = detail.message;
  if (detail.field !== undefined) explained.field = detail.field;
  return explained;
}

/** Findings without repeats (one code, source and field once). */
export function distinctFindings(findings: readonly ExplainedFinding[]): ExplainedFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.source}\n${f.code}\n${f.field ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One attempt of the attempt log as the API shows it: times as ISO strings, the rule explained. */
export function attemptView(a: FetchAttempt) {
  return {
    at: new Date(a.at).toISOString(),
    reason: a.reason,
    attempt: a.attempt,
    outcome: a.outcome,
    ...(a.code !== undefined ? { code: a.code, rule: explain(a.code, 'fetch').summary } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
    ...(a.http_status !== undefined ? { http_status: a.http_status } : {}),
    duration_ms: a.duration_ms,
    ...(a.next ? { next: { kind: a.next.kind, at: new Date(a.next.at).toISOString() } } : {}),
  };
}

export type AttemptView = ReturnType<typeof attemptView>;

export const isRuleCode = (code: string): code is RuleCode => code in RULES;
