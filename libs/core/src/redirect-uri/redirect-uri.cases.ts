import type { RuleCode } from '../findings';
import type { RedirectKind } from './redirect-uri';

/** One row per rule about a registered redirect URI (SPEC-NOTES 16-18). Client host: app.example.com. */
export interface RegisteredRedirectCase {
  rule: string;
  name: string;
  uri: string;
  kind?: RedirectKind;
  errors: RuleCode[];
  warnings?: RuleCode[];
}

export const REGISTERED_REDIRECT_CASES: RegisteredRedirectCase[] = [
  { rule: '17', name: 'https on the client host', uri: 'https://app.example.com/callback', kind: 'web', errors: [] },
  { rule: '17', name: 'https with a query', uri: 'https://app.example.com/cb?tenant=1', kind: 'web', errors: [] },
  {
    rule: '18',
    name: 'https on another host: warned',
    uri: 'https://other.example/cb',
    kind: 'web',
    errors: [],
    warnings: ['redirect_uri.cross_origin'],
  },
  { rule: '17', name: 'http loopback 127.0.0.1', uri: 'http://127.0.0.1:3000/callback', kind: 'loopback', errors: [] },
  { rule: '17', name: 'http loopback [::1] without port', uri: 'http://[::1]/callback', kind: 'loopback', errors: [] },
  {
    rule: '20',
    name: 'http localhost: allowed, warned',
    uri: 'http://localhost:8080/cb',
    kind: 'loopback',
    errors: [],
    warnings: ['redirect_uri.localhost'],
  },
  {
    rule: '20',
    name: 'https localhost: allowed, warned',
    uri: 'https://localhost:49433/callback',
    kind: 'web',
    errors: [],
    warnings: ['redirect_uri.localhost'],
  },
  {
    rule: '17',
    name: 'plain http on a public host',
    uri: 'http://app.example.com/callback',
    errors: ['redirect_uri.http_not_loopback'],
  },
  {
    rule: '17',
    name: 'plain http on a private address',
    uri: 'http://192.168.1.10/callback',
    errors: ['redirect_uri.http_not_loopback'],
  },
  { rule: '17', name: 'fragment', uri: 'https://app.example.com/cb#x', errors: ['redirect_uri.fragment'] },
  { rule: '17', name: 'empty fragment', uri: 'https://app.example.com/cb#', errors: ['redirect_uri.fragment'] },
  {
    rule: '17',
    name: 'userinfo that disguises the host',
    uri: 'https://app.example.com@evil.example/cb',
    errors: ['redirect_uri.userinfo'],
  },
  {
    rule: '17',
    name: 'reverse-domain private-use scheme',
    uri: 'com.example.app:/oauth/callback',
    kind: 'private_use',
    errors: [],
  },
  {
    rule: '17',
    name: 'private-use scheme of the client domain',
    uri: 'com.example.app.mobile:/cb',
    kind: 'private_use',
    errors: [],
  },
  {
    rule: '17',
    name: 'private-use scheme without a period',
    uri: 'myapp://callback',
    errors: ['redirect_uri.private_scheme_without_period'],
  },
  {
    rule: '17',
    name: "private-use scheme of someone else's domain",
    uri: 'com.other.app:/cb',
    kind: 'private_use',
    errors: [],
    warnings: ['redirect_uri.private_scheme_not_client_domain'],
  },
  { rule: '17', name: 'javascript: scheme', uri: 'javascript:alert(1)', errors: ['redirect_uri.forbidden_scheme'] },
  { rule: '17', name: 'data: scheme', uri: 'data:text/html,hi', errors: ['redirect_uri.forbidden_scheme'] },
  { rule: '17', name: 'file: scheme', uri: 'file:///etc/passwd', errors: ['redirect_uri.forbidden_scheme'] },
  { rule: '16', name: 'wildcard port', uri: 'http://localhost:*/callback', errors: ['redirect_uri.wildcard'] },
  { rule: '16', name: 'wildcard host', uri: 'https://*.example.com/cb', errors: ['redirect_uri.wildcard'] },
  { rule: '17', name: 'relative reference', uri: '/callback', errors: ['redirect_uri.not_absolute'] },
  { rule: '17', name: 'space', uri: 'https://app.example.com/my cb', errors: ['redirect_uri.malformed'] },
  { rule: '17', name: 'bad percent-encoding', uri: 'https://app.example.com/%zz', errors: ['redirect_uri.malformed'] },
  { rule: '17', name: 'https without a host', uri: 'https:///cb', errors: ['redirect_uri.malformed'] },
  {
    rule: '17',
    name: 'https with an impossible port',
    uri: 'https://app.example.com:99999/cb',
    errors: ['redirect_uri.malformed'],
  },
];

/** One row per redirect URI matching case (SPEC-NOTES 16). */
export interface RedirectMatchCase {
  name: string;
  requested: string;
  registered: string[];
  matches: string | undefined;
}

export const REDIRECT_MATCH_CASES: RedirectMatchCase[] = [
  {
    name: 'exact https match',
    requested: 'https://app.example.com/cb',
    registered: ['https://app.example.com/cb'],
    matches: 'https://app.example.com/cb',
  },
  {
    name: 'https path differs',
    requested: 'https://app.example.com/cb2',
    registered: ['https://app.example.com/cb'],
    matches: undefined,
  },
  {
    name: 'https trailing slash differs',
    requested: 'https://app.example.com/cb/',
    registered: ['https://app.example.com/cb'],
    matches: undefined,
  },
  {
    name: 'https host case differs (simple string comparison)',
    requested: 'https://APP.example.com/cb',
    registered: ['https://app.example.com/cb'],
    matches: undefined,
  },
  {
    name: 'https port differs: compared',
    requested: 'https://app.example.com:8443/cb',
    registered: ['https://app.example.com/cb'],
    matches: undefined,
  },
  {
    name: 'https localhost port differs: compared (the exception is for http loopback)',
    requested: 'https://localhost:5000/cb',
    registered: ['https://localhost:4000/cb'],
    matches: undefined,
  },
  {
    name: 'https query differs',
    requested: 'https://app.example.com/cb?a=2',
    registered: ['https://app.example.com/cb?a=1'],
    matches: undefined,
  },
  {
    name: '127.0.0.1: any port matches a registered port',
    requested: 'http://127.0.0.1:49152/callback',
    registered: ['http://127.0.0.1:3000/callback'],
    matches: 'http://127.0.0.1:3000/callback',
  },
  {
    name: '127.0.0.1: any port matches a portless registration',
    requested: 'http://127.0.0.1:49152/callback',
    registered: ['http://127.0.0.1/callback'],
    matches: 'http://127.0.0.1/callback',
  },
  {
    name: '127.0.0.1: no port matches a registered port',
    requested: 'http://127.0.0.1/callback',
    registered: ['http://127.0.0.1:3000/callback'],
    matches: 'http://127.0.0.1:3000/callback',
  },
  {
    name: '[::1]: port ignored',
    requested: 'http://[::1]:61000/oauth_callback',
    registered: ['http://[::1]/oauth_callback'],
    matches: 'http://[::1]/oauth_callback',
  },
  {
    name: 'localhost: port ignored',
    requested: 'http://localhost:53123/callback',
    registered: ['http://localhost/callback'],
    matches: 'http://localhost/callback',
  },
  {
    name: 'loopback: path still compared',
    requested: 'http://127.0.0.1:5000/other',
    registered: ['http://127.0.0.1/callback'],
    matches: undefined,
  },
  {
    name: 'loopback: trailing slash still compared',
    requested: 'http://127.0.0.1:5000/callback/',
    registered: ['http://127.0.0.1/callback'],
    matches: undefined,
  },
  {
    name: 'loopback: query still compared',
    requested: 'http://127.0.0.1:5000/cb?x=1',
    registered: ['http://127.0.0.1/cb'],
    matches: undefined,
  },
  {
    name: 'loopback: localhost does not match 127.0.0.1',
    requested: 'http://localhost:5000/callback',
    registered: ['http://127.0.0.1/callback'],
    matches: undefined,
  },
  {
    name: 'loopback: 127.0.0.2 is not a listed loopback host',
    requested: 'http://127.0.0.2:5000/cb',
    registered: ['http://127.0.0.2/cb'],
    matches: undefined,
  },
  {
    name: 'loopback: userinfo never matches',
    requested: 'http://evil@127.0.0.1:5000/cb',
    registered: ['http://127.0.0.1/cb'],
    matches: undefined,
  },
  {
    name: 'loopback: http request does not match an https registration',
    requested: 'http://localhost:5000/cb',
    registered: ['https://localhost/cb'],
    matches: undefined,
  },
  {
    name: 'private-use scheme: exact',
    requested: 'com.example.app:/cb',
    registered: ['com.example.app:/cb'],
    matches: 'com.example.app:/cb',
  },
  {
    name: 'private-use scheme: case compared',
    requested: 'COM.EXAMPLE.APP:/cb',
    registered: ['com.example.app:/cb'],
    matches: undefined,
  },
  {
    name: 'picks the matching one of several',
    requested: 'http://127.0.0.1:9/b',
    registered: ['https://a.example/a', 'http://127.0.0.1/b'],
    matches: 'http://127.0.0.1/b',
  },
];
