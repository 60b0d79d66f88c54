import { FindingList } from '../findings';
import { checkRegisteredRedirectUri, matchRegisteredRedirectUri } from './redirect-uri';
import { REDIRECT_MATCH_CASES, REGISTERED_REDIRECT_CASES } from './redirect-uri.cases';

describe('registered redirect URIs (SPEC-NOTES 17)', () => {
  it.each(REGISTERED_REDIRECT_CASES)('SPEC-NOTES $rule: $name', ({ uri, kind, errors, warnings = [] }) => {
    const findings = new FindingList();
    const target = checkRegisteredRedirectUri(uri, 'redirect_uris[0]', findings, 'app.example.com');
    expect(findings.errors.map((e) => e.code)).toEqual(errors);
    expect(findings.warnings.map((w) => w.code)).toEqual(warnings);
    expect(target?.kind).toBe(errors.length === 0 ? kind : undefined);
    for (const f of [...findings.errors, ...findings.warnings]) expect(f.field).toBe('redirect_uris[0]');
  });
});

describe('matchRegisteredRedirectUri (SPEC-NOTES 16)', () => {
  it.each(REDIRECT_MATCH_CASES)('$name', ({ requested, registered, matches }) => {
    expect(matchRegisteredRedirectUri(requested, registered)).toBe(matches);
  });
});
