// Original file: proto/cimd/v1/gateway.proto


export interface GetClientRequest {
  'client_id'?: (string);
}

export interface GetClientRequest__Output {
  'client_id'?: (string);
}
