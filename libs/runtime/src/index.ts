/** @cimd/runtime: what every process needs at boot: validated configuration, structured logs, health probes, its main. */
export * from './env';
export * from './redis-env';
export * from './logger';
export * from './readiness';
export * from './run-main';
export * from './service-env';
