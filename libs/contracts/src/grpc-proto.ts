import type { Options } from '@grpc/proto-loader';

/**
 * How proto/cimd/v1/gateway.proto is loaded by the gateway, @cimd/client and the benchmark's
 * baseline alike: field names as written (`client_id`), unset fields absent rather than
 * defaulted, repeated fields always arrays, 64-bit integers and enums as strings.
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: false,
});
