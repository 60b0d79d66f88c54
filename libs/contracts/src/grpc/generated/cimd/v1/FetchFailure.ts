// Original file: proto/cimd/v1/gateway.proto


export interface FetchFailure {
  'at'?: (string);
  'code'?: (string);
  'message'?: (string);
}

export interface FetchFailure__Output {
  'at'?: (string);
  'code'?: (string);
  'message'?: (string);
}
