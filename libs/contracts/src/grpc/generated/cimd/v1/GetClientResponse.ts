// Original file: proto/cimd/v1/gateway.proto

import type { ClientRecord as _cimd_v1_ClientRecord, ClientRecord__Output as _cimd_v1_ClientRecord__Output } from '../../cimd/v1/ClientRecord';

export interface GetClientResponse {
  'client'?: (_cimd_v1_ClientRecord | null);
}

export interface GetClientResponse__Output {
  'client'?: (_cimd_v1_ClientRecord__Output);
}
