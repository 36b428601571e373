/**
 * The Prometheus registry with the go-grpc-prometheus server metrics.
 *
 * @module
 */
export * from "./registry.ts";
export * from "./grpc_metrics.ts";
