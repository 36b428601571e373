/**
 * The service server: one port serving Connect, gRPC-web and native gRPC (see README.md), health,
 * reflection, `/health`, `/livez`, `/readyz`, `/metrics` and admin `/debug` routes, with a
 * graceful shutdown; and the start-up path every service's `main.ts` follows.
 *
 * @module
 */
export * from "./service_server.ts";
export * from "./service_start.ts";
export * from "./cors.ts";
export { frozenMessage, isFrozenMessage } from "./frozen_message.ts";
export { clientAddress, resolveClientAddress } from "./client_address.ts";
export * from "./unhandled_rejections.ts";
