/** Injection tokens for the gateway's infrastructure clients. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const REDIS = Symbol('REDIS');
export const POSTGRES = Symbol('POSTGRES');
export const LOGGER = Symbol('LOGGER');
