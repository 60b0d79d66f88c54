// Original file: proto/cimd/v1/gateway.proto


/**
 * Nothing yet (HTTP answers 204); a message of its own so that fields can be added.
 */
export interface RevokeSessionResponse {
}

/**
 * Nothing yet (HTTP answers 204); a message of its own so that fields can be added.
 */
export interface RevokeSessionResponse__Output {
}
