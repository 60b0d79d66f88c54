// Original file: proto/cimd/v1/gateway.proto


export interface Trust {
  /**
   * "trusted", "verified_origin" or "unverified".
   */
  'level'?: (string);
  /**
   * Rule codes a consent screen should surface, e.g. "client.first_seen_recently".
   */
  'warnings'?: (string)[];
}

export interface Trust__Output {
  /**
   * "trusted", "verified_origin" or "unverified".
   */
  'level'?: (string);
  /**
   * Rule codes a consent screen should surface, e.g. "client.first_seen_recently".
   */
  'warnings': (string)[];
}
