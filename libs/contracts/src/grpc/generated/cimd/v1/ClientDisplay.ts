// Original file: proto/cimd/v1/gateway.proto


/**
 * What a consent screen shows (SPEC-NOTES 19): the client_id host always, the rest by policy.
 */
export interface ClientDisplay {
  'client_id'?: (string);
  /**
   * The client_id host as written there (lower-cased); for an internationalized name, its
   * punycode form.
   */
  'host'?: (string);
  'name'?: (string);
  'client_uri'?: (string);
  /**
   * The gateway's own copy of the logo (never the client's host).
   */
  'logo_url'?: (string);
  'tos_uri'?: (string);
  'policy_uri'?: (string);
  /**
   * The host the user is sent back to; for a private-use scheme without a host, the scheme.
   */
  'redirect_host'?: (string);
  /**
   * Only for a client_id host with a punycode ("xn--") label (warning "client.idn_host"): the
   * host as a person reads it, which may imitate another name ("аpple.test" with a Cyrillic "а").
   */
  'host_unicode'?: (string);
  /**
   * Only with host_unicode: the ASCII form ("xn--pple-43d.test"), which a look-alike cannot fake.
   */
  'host_punycode'?: (string);
  '_name'?: "name";
  '_client_uri'?: "client_uri";
  '_logo_url'?: "logo_url";
  '_tos_uri'?: "tos_uri";
  '_policy_uri'?: "policy_uri";
  '_redirect_host'?: "redirect_host";
  '_host_unicode'?: "host_unicode";
  '_host_punycode'?: "host_punycode";
}

/**
 * What a consent screen shows (SPEC-NOTES 19): the client_id host always, the rest by policy.
 */
export interface ClientDisplay__Output {
  'client_id'?: (string);
  /**
   * The client_id host as written there (lower-cased); for an internationalized name, its
   * punycode form.
   */
  'host'?: (string);
  'name'?: (string);
  'client_uri'?: (string);
  /**
   * The gateway's own copy of the logo (never the client's host).
   */
  'logo_url'?: (string);
  'tos_uri'?: (string);
  'policy_uri'?: (string);
  /**
   * The host the user is sent back to; for a private-use scheme without a host, the scheme.
   */
  'redirect_host'?: (string);
  /**
   * Only for a client_id host with a punycode ("xn--") label (warning "client.idn_host"): the
   * host as a person reads it, which may imitate another name ("аpple.test" with a Cyrillic "а").
   */
  'host_unicode'?: (string);
  /**
   * Only with host_unicode: the ASCII form ("xn--pple-43d.test"), which a look-alike cannot fake.
   */
  'host_punycode'?: (string);
}
