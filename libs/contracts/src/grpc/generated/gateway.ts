import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AuthenticateClientRequest as _cimd_v1_AuthenticateClientRequest, AuthenticateClientRequest__Output as _cimd_v1_AuthenticateClientRequest__Output } from './cimd/v1/AuthenticateClientRequest';
import type { AuthenticateClientResponse as _cimd_v1_AuthenticateClientResponse, AuthenticateClientResponse__Output as _cimd_v1_AuthenticateClientResponse__Output } from './cimd/v1/AuthenticateClientResponse';
import type { CacheState as _cimd_v1_CacheState, CacheState__Output as _cimd_v1_CacheState__Output } from './cimd/v1/CacheState';
import type { CheckAuthorizationRequest as _cimd_v1_CheckAuthorizationRequest, CheckAuthorizationRequest__Output as _cimd_v1_CheckAuthorizationRequest__Output } from './cimd/v1/CheckAuthorizationRequest';
import type { CheckAuthorizationResponse as _cimd_v1_CheckAuthorizationResponse, CheckAuthorizationResponse__Output as _cimd_v1_CheckAuthorizationResponse__Output } from './cimd/v1/CheckAuthorizationResponse';
import type { CheckSessionRequest as _cimd_v1_CheckSessionRequest, CheckSessionRequest__Output as _cimd_v1_CheckSessionRequest__Output } from './cimd/v1/CheckSessionRequest';
import type { ClientDisplay as _cimd_v1_ClientDisplay, ClientDisplay__Output as _cimd_v1_ClientDisplay__Output } from './cimd/v1/ClientDisplay';
import type { ClientRecord as _cimd_v1_ClientRecord, ClientRecord__Output as _cimd_v1_ClientRecord__Output } from './cimd/v1/ClientRecord';
import type { FetchFailure as _cimd_v1_FetchFailure, FetchFailure__Output as _cimd_v1_FetchFailure__Output } from './cimd/v1/FetchFailure';
import type { Finding as _cimd_v1_Finding, Finding__Output as _cimd_v1_Finding__Output } from './cimd/v1/Finding';
import type { GatewayClient as _cimd_v1_GatewayClient, GatewayDefinition as _cimd_v1_GatewayDefinition } from './cimd/v1/Gateway';
import type { GetClientRequest as _cimd_v1_GetClientRequest, GetClientRequest__Output as _cimd_v1_GetClientRequest__Output } from './cimd/v1/GetClientRequest';
import type { GetClientResponse as _cimd_v1_GetClientResponse, GetClientResponse__Output as _cimd_v1_GetClientResponse__Output } from './cimd/v1/GetClientResponse';
import type { KeySetState as _cimd_v1_KeySetState, KeySetState__Output as _cimd_v1_KeySetState__Output } from './cimd/v1/KeySetState';
import type { RegisterSessionRequest as _cimd_v1_RegisterSessionRequest, RegisterSessionRequest__Output as _cimd_v1_RegisterSessionRequest__Output } from './cimd/v1/RegisterSessionRequest';
import type { RevokeSessionRequest as _cimd_v1_RevokeSessionRequest, RevokeSessionRequest__Output as _cimd_v1_RevokeSessionRequest__Output } from './cimd/v1/RevokeSessionRequest';
import type { RevokeSessionResponse as _cimd_v1_RevokeSessionResponse, RevokeSessionResponse__Output as _cimd_v1_RevokeSessionResponse__Output } from './cimd/v1/RevokeSessionResponse';
import type { SessionStatus as _cimd_v1_SessionStatus, SessionStatus__Output as _cimd_v1_SessionStatus__Output } from './cimd/v1/SessionStatus';
import type { TenantEvent as _cimd_v1_TenantEvent, TenantEvent__Output as _cimd_v1_TenantEvent__Output } from './cimd/v1/TenantEvent';
import type { Trust as _cimd_v1_Trust, Trust__Output as _cimd_v1_Trust__Output } from './cimd/v1/Trust';
import type { WatchEventsRequest as _cimd_v1_WatchEventsRequest, WatchEventsRequest__Output as _cimd_v1_WatchEventsRequest__Output } from './cimd/v1/WatchEventsRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  cimd: {
    v1: {
      AuthenticateClientRequest: MessageTypeDefinition<_cimd_v1_AuthenticateClientRequest, _cimd_v1_AuthenticateClientRequest__Output>
      AuthenticateClientResponse: MessageTypeDefinition<_cimd_v1_AuthenticateClientResponse, _cimd_v1_AuthenticateClientResponse__Output>
      CacheState: MessageTypeDefinition<_cimd_v1_CacheState, _cimd_v1_CacheState__Output>
      CheckAuthorizationRequest: MessageTypeDefinition<_cimd_v1_CheckAuthorizationRequest, _cimd_v1_CheckAuthorizationRequest__Output>
      CheckAuthorizationResponse: MessageTypeDefinition<_cimd_v1_CheckAuthorizationResponse, _cimd_v1_CheckAuthorizationResponse__Output>
      CheckSessionRequest: MessageTypeDefinition<_cimd_v1_CheckSessionRequest, _cimd_v1_CheckSessionRequest__Output>
      ClientDisplay: MessageTypeDefinition<_cimd_v1_ClientDisplay, _cimd_v1_ClientDisplay__Output>
      ClientRecord: MessageTypeDefinition<_cimd_v1_ClientRecord, _cimd_v1_ClientRecord__Output>
      FetchFailure: MessageTypeDefinition<_cimd_v1_FetchFailure, _cimd_v1_FetchFailure__Output>
      Finding: MessageTypeDefinition<_cimd_v1_Finding, _cimd_v1_Finding__Output>
      Gateway: SubtypeConstructor<typeof grpc.Client, _cimd_v1_GatewayClient> & { service: _cimd_v1_GatewayDefinition }
      GetClientRequest: MessageTypeDefinition<_cimd_v1_GetClientRequest, _cimd_v1_GetClientRequest__Output>
      GetClientResponse: MessageTypeDefinition<_cimd_v1_GetClientResponse, _cimd_v1_GetClientResponse__Output>
      KeySetState: MessageTypeDefinition<_cimd_v1_KeySetState, _cimd_v1_KeySetState__Output>
      RegisterSessionRequest: MessageTypeDefinition<_cimd_v1_RegisterSessionRequest, _cimd_v1_RegisterSessionRequest__Output>
      RevokeSessionRequest: MessageTypeDefinition<_cimd_v1_RevokeSessionRequest, _cimd_v1_RevokeSessionRequest__Output>
      RevokeSessionResponse: MessageTypeDefinition<_cimd_v1_RevokeSessionResponse, _cimd_v1_RevokeSessionResponse__Output>
      SessionStatus: MessageTypeDefinition<_cimd_v1_SessionStatus, _cimd_v1_SessionStatus__Output>
      TenantEvent: MessageTypeDefinition<_cimd_v1_TenantEvent, _cimd_v1_TenantEvent__Output>
      Trust: MessageTypeDefinition<_cimd_v1_Trust, _cimd_v1_Trust__Output>
      WatchEventsRequest: MessageTypeDefinition<_cimd_v1_WatchEventsRequest, _cimd_v1_WatchEventsRequest__Output>
    }
  }
}

