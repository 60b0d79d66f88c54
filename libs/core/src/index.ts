/**
 * @cimd/core: the Client ID Metadata Document rules as pure functions (no I/O), shared by
 * the gateway, the fetcher, the CLI and the tests.
 */
export * from './findings';
export * from './client-id/client-id-url';
export * from './document/metadata-document';
export * from './document/validate-document';
export * from './redirect-uri/redirect-uri';
export * from './policy/tenant-policy';
export * from './authorize/authorize-decision';
export * from './cache/cache-lifetime';
export * from './network/special-use-addresses';
export * from './document/document-changes';
