// Original file: proto/cimd/v1/gateway.proto


export interface AuthenticateClientRequest {
  'tenant'?: (string);
  'client_id'?: (string);
  /**
   * "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" with a client_assertion.
   */
  'client_assertion_type'?: (string);
  /**
   * The RFC 7523 client assertion (a signed JWT) the client sent to the token endpoint.
   */
  'client_assertion'?: (string);
  '_client_assertion_type'?: "client_assertion_type";
  '_client_assertion'?: "client_assertion";
}

export interface AuthenticateClientRequest__Output {
  'tenant'?: (string);
  'client_id'?: (string);
  /**
   * "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" with a client_assertion.
   */
  'client_assertion_type'?: (string);
  /**
   * The RFC 7523 client assertion (a signed JWT) the client sent to the token endpoint.
   */
  'client_assertion'?: (string);
}
