/**
 * @cimd/safe-fetch: the SSRF-hardened HTTPS client (undici 7) and the document, key set and logo
 * fetches built on it. The only code in this project that connects to attacker-chosen URLs.
 */
export * from './safe-fetch-options';
export * from './pinned-connector';
export * from './safe-fetcher';
export * from './fetch-json';
export * from './fetch-client-metadata';
export * from './fetch-key-set';
export * from './fetch-logo';
