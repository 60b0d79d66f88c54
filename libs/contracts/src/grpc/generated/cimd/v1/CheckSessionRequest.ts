// Original file: proto/cimd/v1/gateway.proto


export interface CheckSessionRequest {
  'tenant'?: (string);
  'session_id'?: (string);
}

export interface CheckSessionRequest__Output {
  'tenant'?: (string);
  'session_id'?: (string);
}
