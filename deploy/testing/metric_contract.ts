/**
 * The metric names the alert rules and the dashboard may use: what the services export (the
 * project's contract, checked against the sources), what the exporters and cAdvisor export,
 * and Prometheus' own `up`.
 *
 * @module
 */

/** Exported by every service through lib/metrics/registry.ts. */
export const SERVICE_METRICS = [
  "grpc_server_started_total",
  "grpc_server_handled_total",
  "grpc_server_msg_received_total",
  "grpc_server_msg_sent_total",
  "grpc_server_handling_seconds",
  "grpc_server_active_connections",
  "grpc_server_in_flight_requests",
  "rpc_fast_path_calls_total",
  "process_resident_memory_bytes",
  "deno_heap_used_bytes",
  "deno_heap_total_bytes",
  "process_start_time_seconds",
] as const;

/** Exported by some services (business, pool and outbox metrics), by name in the sources. */
export const COMPONENT_METRICS = [
  "tasks_created_total",
  "task_submissions_total",
  "task_approvals_total",
  "task_change_requests_total",
  "task_withdrawals_total",
  "task_disputes_opened_total",
  "task_disputes_resolved_total",
  "process_unhandled_rejections_total",
  "matches_attempted_total",
  "matches_successful_total",
  "users_online_count",
  "auth_throttled_total",
  "proposal_response_time_seconds",
  "db_pool_connections_max",
  "db_pool_connections_active",
  "db_pool_connections_min",
  "db_pool_idle_checks_total",
  "outbox_backlog",
  "outbox_oldest_event_age_seconds",
  "events_published_total",
  "events_publish_failed_total",
  "events_malformed_total",
  "match_retries_total",
  "match_wakeups_total",
  "watch_streams_open",
  "notifications_delivered_total",
  "profile_cache_hits_total",
  "profile_cache_misses_total",
  "profile_cache_resyncs_total",
  "profile_cache_invalidation_failures_total",
  "profile_cache_entries",
  "profile_cache_synchronised",
] as const;

/** Histograms among the above: they appear as `_bucket`, `_sum` and `_count` series. */
export const HISTOGRAMS = ["grpc_server_handling_seconds", "proposal_response_time_seconds"];

/** From the exporters compose runs, cAdvisor (kubelet or compose) and Prometheus itself. */
export const EXTERNAL_METRICS = [
  // postgres_exporter
  "pg_stat_activity_count",
  "pg_settings_max_connections",
  "pg_up",
  // redis_exporter
  "redis_memory_used_bytes",
  "redis_memory_max_bytes",
  "redis_up",
  // cAdvisor
  "container_memory_working_set_bytes",
  "container_spec_memory_limit_bytes",
  "container_cpu_usage_seconds_total",
  "container_spec_cpu_quota",
  "container_spec_cpu_period",
  // Prometheus
  "up",
  "ALERTS",
] as const;

/**
 * Every series name a query may read, given the names that recording rules produce.
 *
 * @example
 * ```ts
 * knownSeries(["job:foo:rate5m"]).has("grpc_server_handling_seconds_bucket"); // true
 * ```
 */
export function knownSeries(recorded: readonly string[]): Set<string> {
  const names = new Set<string>([
    ...SERVICE_METRICS,
    ...COMPONENT_METRICS,
    ...EXTERNAL_METRICS,
    ...recorded,
  ]);
  for (const histogram of HISTOGRAMS) {
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(histogram + suffix);
  }
  return names;
}
