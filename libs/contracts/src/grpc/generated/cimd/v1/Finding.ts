// Original file: proto/cimd/v1/gateway.proto


export interface Finding {
  /**
   * A rule code (docs/RULES.md).
   */
  'code'?: (string);
  'message'?: (string);
  /**
   * JSON path of the offending field, e.g. "redirect_uris[1]".
   */
  'field'?: (string);
  '_field'?: "field";
}

export interface Finding__Output {
  /**
   * A rule code (docs/RULES.md).
   */
  'code'?: (string);
  'message'?: (string);
  /**
   * JSON path of the offending field, e.g. "redirect_uris[1]".
   */
  'field'?: (string);
}
