/**
 * @cimd/core: the Client ID Metadata Document rules and the service's state machines as pure
 * functions (no I/O), shared by the gateway, the fetcher, the CLI and the tests.
 */
export * from './findings';
export * from './client-id/client-id-url';
export * from './client-id/idn-host';
export * from './document/metadata-document';
export * from './document/validate-document';
export * from './document/document-changes';
export * from './redirect-uri/redirect-uri';
export * from './policy/tenant-policy';
export * from './policy/webhook-secret';
export * from './policy/webhook-url';
export * from './policy/policy-dry-run';
export * from './authorize/authorize-decision';
export * from './authorize/cached-decision';
export * from './cache/cache-lifetime';
export * from './cache/cache-entry';
export * from './cache/cache-transitions';
export * from './cache/freshness';
export * from './fetch/fetch-outcome';
export * from './fetch/fetch-retry';
export * from './fetch/fetch-attempt';
export * from './clients/client-health';
export * from './events/client-event';
export * from './events/client-event-plan';
export * from './sessions/session-status';
export * from './network/special-use-addresses';
export * from './client-auth/jwk-set';
export * from './client-auth/auth-methods';
export * from './client-auth/assertion-rules';
