/** Injection tokens for the gateway's infrastructure. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const REDIS = Symbol('REDIS');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const LOGGER = Symbol('LOGGER');
export const REDIS_KEYS = Symbol('REDIS_KEYS');
export const FETCH_QUEUE_TOKEN = Symbol('FETCH_QUEUE');
export const WEBHOOK_QUEUE_TOKEN = Symbol('WEBHOOK_QUEUE');
