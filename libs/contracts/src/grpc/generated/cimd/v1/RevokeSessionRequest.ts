// Original file: proto/cimd/v1/gateway.proto


export interface RevokeSessionRequest {
  'tenant'?: (string);
  'session_id'?: (string);
}

export interface RevokeSessionRequest__Output {
  'tenant'?: (string);
  'session_id'?: (string);
}
