// Original file: proto/cimd/v1/gateway.proto


export interface WatchEventsRequest {
  'tenant'?: (string);
  /**
   * The id of the last event already seen (a whole number as a string); absent or "0": every
   * stored event.
   */
  'after_id'?: (string);
  '_after_id'?: "after_id";
}

export interface WatchEventsRequest__Output {
  'tenant'?: (string);
  /**
   * The id of the last event already seen (a whole number as a string); absent or "0": every
   * stored event.
   */
  'after_id'?: (string);
}
