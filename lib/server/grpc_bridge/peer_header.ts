/**
 * The header by which the native gRPC bridge tells the service which relayed connection a call
 * came on: `<secret> <port>`, the secret the service gave the bridge and the bridge-side port of
 * the relay (the service knows the client's address behind it). The bridge drops a client's own
 * copy, and the service ignores one without its secret.
 *
 * @module
 */

/** The header's name. */
export const BRIDGE_PEER_HEADER = "x-platform-grpc-bridge-peer";
