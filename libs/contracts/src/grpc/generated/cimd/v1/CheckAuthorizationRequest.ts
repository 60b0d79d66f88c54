// Original file: proto/cimd/v1/gateway.proto


export interface CheckAuthorizationRequest {
  /**
   * The tenant id (lower-case letters, digits and hyphens, 1-63 characters).
   */
  'tenant'?: (string);
  /**
   * The client_id of the authorization request: the URL of its metadata document, exactly as
   * received (it is compared as a string).
   */
  'client_id'?: (string);
  'redirect_uri'?: (string);
  /**
   * Absent: "code".
   */
  'response_type'?: (string);
  'scope'?: (string);
  /**
   * "S256" normally; absent (or "") when the request carries no code_challenge_method.
   */
  'code_challenge_method'?: (string);
  '_response_type'?: "response_type";
  '_scope'?: "scope";
  '_code_challenge_method'?: "code_challenge_method";
}

export interface CheckAuthorizationRequest__Output {
  /**
   * The tenant id (lower-case letters, digits and hyphens, 1-63 characters).
   */
  'tenant'?: (string);
  /**
   * The client_id of the authorization request: the URL of its metadata document, exactly as
   * received (it is compared as a string).
   */
  'client_id'?: (string);
  'redirect_uri'?: (string);
  /**
   * Absent: "code".
   */
  'response_type'?: (string);
  'scope'?: (string);
  /**
   * "S256" normally; absent (or "") when the request carries no code_challenge_method.
   */
  'code_challenge_method'?: (string);
}
