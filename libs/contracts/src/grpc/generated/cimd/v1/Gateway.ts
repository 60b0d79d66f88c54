// Original file: proto/cimd/v1/gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AuthenticateClientRequest as _cimd_v1_AuthenticateClientRequest, AuthenticateClientRequest__Output as _cimd_v1_AuthenticateClientRequest__Output } from '../../cimd/v1/AuthenticateClientRequest';
import type { AuthenticateClientResponse as _cimd_v1_AuthenticateClientResponse, AuthenticateClientResponse__Output as _cimd_v1_AuthenticateClientResponse__Output } from '../../cimd/v1/AuthenticateClientResponse';
import type { CheckAuthorizationRequest as _cimd_v1_CheckAuthorizationRequest, CheckAuthorizationRequest__Output as _cimd_v1_CheckAuthorizationRequest__Output } from '../../cimd/v1/CheckAuthorizationRequest';
import type { CheckAuthorizationResponse as _cimd_v1_CheckAuthorizationResponse, CheckAuthorizationResponse__Output as _cimd_v1_CheckAuthorizationResponse__Output } from '../../cimd/v1/CheckAuthorizationResponse';
import type { CheckSessionRequest as _cimd_v1_CheckSessionRequest, CheckSessionRequest__Output as _cimd_v1_CheckSessionRequest__Output } from '../../cimd/v1/CheckSessionRequest';
import type { GetClientRequest as _cimd_v1_GetClientRequest, GetClientRequest__Output as _cimd_v1_GetClientRequest__Output } from '../../cimd/v1/GetClientRequest';
import type { GetClientResponse as _cimd_v1_GetClientResponse, GetClientResponse__Output as _cimd_v1_GetClientResponse__Output } from '../../cimd/v1/GetClientResponse';
import type { RegisterSessionRequest as _cimd_v1_RegisterSessionRequest, RegisterSessionRequest__Output as _cimd_v1_RegisterSessionRequest__Output } from '../../cimd/v1/RegisterSessionRequest';
import type { RevokeSessionRequest as _cimd_v1_RevokeSessionRequest, RevokeSessionRequest__Output as _cimd_v1_RevokeSessionRequest__Output } from '../../cimd/v1/RevokeSessionRequest';
import type { RevokeSessionResponse as _cimd_v1_RevokeSessionResponse, RevokeSessionResponse__Output as _cimd_v1_RevokeSessionResponse__Output } from '../../cimd/v1/RevokeSessionResponse';
import type { SessionStatus as _cimd_v1_SessionStatus, SessionStatus__Output as _cimd_v1_SessionStatus__Output } from '../../cimd/v1/SessionStatus';
import type { TenantEvent as _cimd_v1_TenantEvent, TenantEvent__Output as _cimd_v1_TenantEvent__Output } from '../../cimd/v1/TenantEvent';
import type { WatchEventsRequest as _cimd_v1_WatchEventsRequest, WatchEventsRequest__Output as _cimd_v1_WatchEventsRequest__Output } from '../../cimd/v1/WatchEventsRequest';

export interface GatewayClient extends grpc.Client {
  /**
   * Whether a client is who it says it is at the tenant's token endpoint: the same as
   * POST /v1/tenants/{tenant}/clients/authenticate. A refusal is not an error: the call answers
   * OK with authenticated false, error "invalid_client" and the rule code in reason; "pending"
   * (error "temporarily_unavailable") when the client's document could not be had in time.
   */
  AuthenticateClient(argument: _cimd_v1_AuthenticateClientRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  AuthenticateClient(argument: _cimd_v1_AuthenticateClientRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  AuthenticateClient(argument: _cimd_v1_AuthenticateClientRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  AuthenticateClient(argument: _cimd_v1_AuthenticateClientRequest, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Whether a client is who it says it is at the tenant's token endpoint: the same as
   * POST /v1/tenants/{tenant}/clients/authenticate. A refusal is not an error: the call answers
   * OK with authenticated false, error "invalid_client" and the rule code in reason; "pending"
   * (error "temporarily_unavailable") when the client's document could not be had in time.
   */
  authenticateClient(argument: _cimd_v1_AuthenticateClientRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  authenticateClient(argument: _cimd_v1_AuthenticateClientRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  authenticateClient(argument: _cimd_v1_AuthenticateClientRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  authenticateClient(argument: _cimd_v1_AuthenticateClientRequest, callback: grpc.requestCallback<_cimd_v1_AuthenticateClientResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The decision for one authorization request of one tenant: the same as
   * POST /v1/tenants/{tenant}/authorize/check. Answered from the shared cache; on a miss the
   * fetch is enqueued and awaited up to CIMD_AUTHORIZE_WAIT_MS, then "pending".
   */
  CheckAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  CheckAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  CheckAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  CheckAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The decision for one authorization request of one tenant: the same as
   * POST /v1/tenants/{tenant}/authorize/check. Answered from the shared cache; on a miss the
   * fetch is enqueued and awaited up to CIMD_AUTHORIZE_WAIT_MS, then "pending".
   */
  checkAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  checkAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  checkAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  checkAuthorization(argument: _cimd_v1_CheckAuthorizationRequest, callback: grpc.requestCallback<_cimd_v1_CheckAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Whether a session is still active, and if not since when and why: the same as
   * GET /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  CheckSession(argument: _cimd_v1_CheckSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  CheckSession(argument: _cimd_v1_CheckSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  CheckSession(argument: _cimd_v1_CheckSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  CheckSession(argument: _cimd_v1_CheckSessionRequest, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  /**
   * Whether a session is still active, and if not since when and why: the same as
   * GET /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  checkSession(argument: _cimd_v1_CheckSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  checkSession(argument: _cimd_v1_CheckSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  checkSession(argument: _cimd_v1_CheckSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  checkSession(argument: _cimd_v1_CheckSessionRequest, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  
  /**
   * The cached record of one client_id: the same as GET /v1/clients?client_id=…
   * NOT_FOUND when the client_id has not been fetched yet (an authorize check fetches it).
   */
  GetClient(argument: _cimd_v1_GetClientRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  GetClient(argument: _cimd_v1_GetClientRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  GetClient(argument: _cimd_v1_GetClientRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  GetClient(argument: _cimd_v1_GetClientRequest, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The cached record of one client_id: the same as GET /v1/clients?client_id=…
   * NOT_FOUND when the client_id has not been fetched yet (an authorize check fetches it).
   */
  getClient(argument: _cimd_v1_GetClientRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  getClient(argument: _cimd_v1_GetClientRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  getClient(argument: _cimd_v1_GetClientRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  getClient(argument: _cimd_v1_GetClientRequest, callback: grpc.requestCallback<_cimd_v1_GetClientResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Register a session the tenant granted to a client, so that it ends when the client's
   * document vanishes or changes (per the tenant's policy): the same as
   * POST /v1/tenants/{tenant}/sessions. Idempotent on session_id: registering it again returns
   * the session as it is. NOT_FOUND for an unknown tenant; FAILED_PRECONDITION (error
   * "conflict") when the client is gone or invalid, or the session_id is already registered
   * for another client: states a retry does not change.
   */
  RegisterSession(argument: _cimd_v1_RegisterSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  RegisterSession(argument: _cimd_v1_RegisterSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  RegisterSession(argument: _cimd_v1_RegisterSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  RegisterSession(argument: _cimd_v1_RegisterSessionRequest, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  /**
   * Register a session the tenant granted to a client, so that it ends when the client's
   * document vanishes or changes (per the tenant's policy): the same as
   * POST /v1/tenants/{tenant}/sessions. Idempotent on session_id: registering it again returns
   * the session as it is. NOT_FOUND for an unknown tenant; FAILED_PRECONDITION (error
   * "conflict") when the client is gone or invalid, or the session_id is already registered
   * for another client: states a retry does not change.
   */
  registerSession(argument: _cimd_v1_RegisterSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  registerSession(argument: _cimd_v1_RegisterSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  registerSession(argument: _cimd_v1_RegisterSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  registerSession(argument: _cimd_v1_RegisterSessionRequest, callback: grpc.requestCallback<_cimd_v1_SessionStatus__Output>): grpc.ClientUnaryCall;
  
  /**
   * Revoke one session (reason "api"); revoking it again changes nothing: the same as
   * DELETE /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  RevokeSession(argument: _cimd_v1_RevokeSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _cimd_v1_RevokeSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _cimd_v1_RevokeSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  RevokeSession(argument: _cimd_v1_RevokeSessionRequest, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Revoke one session (reason "api"); revoking it again changes nothing: the same as
   * DELETE /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  revokeSession(argument: _cimd_v1_RevokeSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _cimd_v1_RevokeSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _cimd_v1_RevokeSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  revokeSession(argument: _cimd_v1_RevokeSessionRequest, callback: grpc.requestCallback<_cimd_v1_RevokeSessionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The tenant's events, as a stream that does not end by itself: first every stored event
   * after after_id, oldest first (GET /v1/tenants/{tenant}/events, paged), then each new event
   * as it is recorded, with no gap and no duplicate between the two. Ids increase: to resume
   * after a disconnect, call again with after_id = the last id received. Only this tenant's
   * events. The stream ends with UNAVAILABLE when the gateway shuts down (reconnect and
   * resume) or when its connection reaches the gateway's maximum connection age and grace
   * (CIMD_GRPC_MAX_CONNECTION_AGE_MS, 30 min by default, then
   * CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS), and with RESOURCE_EXHAUSTED when the caller reads
   * too slowly and more than the gateway's buffer of new events piles up (resume the same way).
   */
  WatchEvents(argument: _cimd_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_cimd_v1_TenantEvent__Output>;
  WatchEvents(argument: _cimd_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_cimd_v1_TenantEvent__Output>;
  /**
   * The tenant's events, as a stream that does not end by itself: first every stored event
   * after after_id, oldest first (GET /v1/tenants/{tenant}/events, paged), then each new event
   * as it is recorded, with no gap and no duplicate between the two. Ids increase: to resume
   * after a disconnect, call again with after_id = the last id received. Only this tenant's
   * events. The stream ends with UNAVAILABLE when the gateway shuts down (reconnect and
   * resume) or when its connection reaches the gateway's maximum connection age and grace
   * (CIMD_GRPC_MAX_CONNECTION_AGE_MS, 30 min by default, then
   * CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS), and with RESOURCE_EXHAUSTED when the caller reads
   * too slowly and more than the gateway's buffer of new events piles up (resume the same way).
   */
  watchEvents(argument: _cimd_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_cimd_v1_TenantEvent__Output>;
  watchEvents(argument: _cimd_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_cimd_v1_TenantEvent__Output>;
  
}

export interface GatewayHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Whether a client is who it says it is at the tenant's token endpoint: the same as
   * POST /v1/tenants/{tenant}/clients/authenticate. A refusal is not an error: the call answers
   * OK with authenticated false, error "invalid_client" and the rule code in reason; "pending"
   * (error "temporarily_unavailable") when the client's document could not be had in time.
   */
  AuthenticateClient: grpc.handleUnaryCall<_cimd_v1_AuthenticateClientRequest__Output, _cimd_v1_AuthenticateClientResponse>;
  
  /**
   * The decision for one authorization request of one tenant: the same as
   * POST /v1/tenants/{tenant}/authorize/check. Answered from the shared cache; on a miss the
   * fetch is enqueued and awaited up to CIMD_AUTHORIZE_WAIT_MS, then "pending".
   */
  CheckAuthorization: grpc.handleUnaryCall<_cimd_v1_CheckAuthorizationRequest__Output, _cimd_v1_CheckAuthorizationResponse>;
  
  /**
   * Whether a session is still active, and if not since when and why: the same as
   * GET /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  CheckSession: grpc.handleUnaryCall<_cimd_v1_CheckSessionRequest__Output, _cimd_v1_SessionStatus>;
  
  /**
   * The cached record of one client_id: the same as GET /v1/clients?client_id=…
   * NOT_FOUND when the client_id has not been fetched yet (an authorize check fetches it).
   */
  GetClient: grpc.handleUnaryCall<_cimd_v1_GetClientRequest__Output, _cimd_v1_GetClientResponse>;
  
  /**
   * Register a session the tenant granted to a client, so that it ends when the client's
   * document vanishes or changes (per the tenant's policy): the same as
   * POST /v1/tenants/{tenant}/sessions. Idempotent on session_id: registering it again returns
   * the session as it is. NOT_FOUND for an unknown tenant; FAILED_PRECONDITION (error
   * "conflict") when the client is gone or invalid, or the session_id is already registered
   * for another client: states a retry does not change.
   */
  RegisterSession: grpc.handleUnaryCall<_cimd_v1_RegisterSessionRequest__Output, _cimd_v1_SessionStatus>;
  
  /**
   * Revoke one session (reason "api"); revoking it again changes nothing: the same as
   * DELETE /v1/tenants/{tenant}/sessions/{session_id}. NOT_FOUND for an unknown session.
   */
  RevokeSession: grpc.handleUnaryCall<_cimd_v1_RevokeSessionRequest__Output, _cimd_v1_RevokeSessionResponse>;
  
  /**
   * The tenant's events, as a stream that does not end by itself: first every stored event
   * after after_id, oldest first (GET /v1/tenants/{tenant}/events, paged), then each new event
   * as it is recorded, with no gap and no duplicate between the two. Ids increase: to resume
   * after a disconnect, call again with after_id = the last id received. Only this tenant's
   * events. The stream ends with UNAVAILABLE when the gateway shuts down (reconnect and
   * resume) or when its connection reaches the gateway's maximum connection age and grace
   * (CIMD_GRPC_MAX_CONNECTION_AGE_MS, 30 min by default, then
   * CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS), and with RESOURCE_EXHAUSTED when the caller reads
   * too slowly and more than the gateway's buffer of new events piles up (resume the same way).
   */
  WatchEvents: grpc.handleServerStreamingCall<_cimd_v1_WatchEventsRequest__Output, _cimd_v1_TenantEvent>;
  
}

export interface GatewayDefinition extends grpc.ServiceDefinition {
  AuthenticateClient: MethodDefinition<_cimd_v1_AuthenticateClientRequest, _cimd_v1_AuthenticateClientResponse, _cimd_v1_AuthenticateClientRequest__Output, _cimd_v1_AuthenticateClientResponse__Output>
  CheckAuthorization: MethodDefinition<_cimd_v1_CheckAuthorizationRequest, _cimd_v1_CheckAuthorizationResponse, _cimd_v1_CheckAuthorizationRequest__Output, _cimd_v1_CheckAuthorizationResponse__Output>
  CheckSession: MethodDefinition<_cimd_v1_CheckSessionRequest, _cimd_v1_SessionStatus, _cimd_v1_CheckSessionRequest__Output, _cimd_v1_SessionStatus__Output>
  GetClient: MethodDefinition<_cimd_v1_GetClientRequest, _cimd_v1_GetClientResponse, _cimd_v1_GetClientRequest__Output, _cimd_v1_GetClientResponse__Output>
  RegisterSession: MethodDefinition<_cimd_v1_RegisterSessionRequest, _cimd_v1_SessionStatus, _cimd_v1_RegisterSessionRequest__Output, _cimd_v1_SessionStatus__Output>
  RevokeSession: MethodDefinition<_cimd_v1_RevokeSessionRequest, _cimd_v1_RevokeSessionResponse, _cimd_v1_RevokeSessionRequest__Output, _cimd_v1_RevokeSessionResponse__Output>
  WatchEvents: MethodDefinition<_cimd_v1_WatchEventsRequest, _cimd_v1_TenantEvent, _cimd_v1_WatchEventsRequest__Output, _cimd_v1_TenantEvent__Output>
}
