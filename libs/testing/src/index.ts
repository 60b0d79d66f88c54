/** @cimd/testing: a test CA, a local HTTPS client host, free ports and connection canaries for tests, the demo and benchmarks. */
export * from './free-port';
export * from './test-pki';
export * from './test-origin';
export * from './client-host';
export * from './wait-for';
