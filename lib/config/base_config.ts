/**
 * The configuration every service shares, read once at start from the environment.
 *
 * @module
 */
import { type CorsConfig, loadCorsConfig } from "./cors_config.ts";
import { ConfigError, EnvReader, type EnvSource } from "./env.ts";

/** The development secret used when JWT_SECRETS is unset; never for production. */
export const DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789";

/**
 * PostgreSQL pool settings; the defaults are the manual's pgxpool settings (MaxConns 25, MinConns
 * 5, MaxConnLifetime 1h, MaxConnIdleTime 30m, HealthCheckPeriod 5m).
 */
export interface PoolConfig {
  /** Connections at most (DB_MAX_CONNS, default 25). */
  maxConnections: number;
  /** Connections kept open and checked every {@link healthCheckPeriodSeconds} (0: none). */
  minConnections?: number;
  /** How often the warm minimum is checked (and re-opened). Default 300. */
  healthCheckPeriodSeconds?: number;
  /** A connection is closed after this long (DB_MAX_CONN_LIFETIME_SECONDS, default 3600). */
  maxLifetimeSeconds: number;
  /** An idle connection is closed after this long (DB_MAX_CONN_IDLE_SECONDS, default 1800). */
  idleTimeoutSeconds: number;
  /** How long connecting may take (DB_CONNECT_TIMEOUT_SECONDS, default 5). */
  connectTimeoutSeconds: number;
  /**
   * Bound of every query: the server's statement_timeout and the client-side timeout
   * (DB_QUERY_TIMEOUT_MS, default 5000).
   */
  queryTimeoutMs: number;
}

/** Settings shared by the three services. */
export interface BaseConfig {
  /** The service's name, e.g. `users` (in logs and metrics). */
  serviceName: string;
  /** SERVICE_VERSION, reported by /health (default `v1.0.0`). */
  version: string;
  /** HOST to listen on (default `0.0.0.0`). */
  host: string;
  /** PORT to listen on (each service has its default; 0 picks a free one). */
  port: number;
  /** DATABASE_URL, a `postgres://` URL. */
  databaseUrl: string;
  /** NATS_URL: one URL, or several separated by commas (a cluster). */
  natsUrl: string;
  /** Copies of each JetStream stream (1 for one NATS server, 3 for a three-node cluster). */
  natsStreamReplicas: number;
  /** REDIS_URL, a `redis://` or `rediss://` URL. */
  redisUrl: string;
  /** The first signs, every one verifies: rotate by prepending a new secret. */
  jwtSecrets: string[];
  /** True when JWT_SECRETS was unset and the development secret is in use. */
  usingDevelopmentSecret: boolean;
  /** How long an access token lives (TOKEN_TTL_SECONDS, default 3600). */
  tokenTtlSeconds: number;
  /** The lowest level logged (LOG_LEVEL, default `info`). */
  logLevel: "debug" | "info" | "warn" | "error";
  /** The PostgreSQL pool's settings. */
  pool: PoolConfig;
  /** Largest request or response message (MAX_MESSAGE_BYTES, default 4 MiB). */
  maxMessageBytes: number;
  /** TLS_CERT_FILE and TLS_KEY_FILE (set together): serve TLS; unset: plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  /**
   * After SIGTERM, how long at most in-flight requests get to finish (SHUTDOWN_GRACE_MS,
   * default 10 000).
   */
  shutdownGraceMs: number;
  /**
   * After SIGTERM the listener stays open until no request has arrived for this long and none is
   * in flight (at most {@link shutdownGraceMs}).
   */
  shutdownDrainMs: number;
  /** How long each dependency check of /health may take (HEALTH_CHECK_TIMEOUT_MS, default 1000). */
  healthTimeoutMs: number;
  /** Browser origins allowed to call (`CORS_ORIGINS`). */
  cors: CorsConfig;
  /** Serve plain unary calls on the fast path (RPC_FAST_PATH); off leaves them to connect-es. */
  rpcFastPath: boolean;
  /** How long a client may take to send a request body (REQUEST_BODY_TIMEOUT_MS). */
  requestBodyTimeoutMs: number;
}

/**
 * Reads the shared settings. Throws {@link ConfigError} naming the variable on a bad value.
 *
 * @example
 * ```ts
 * const config = loadBaseConfig("users", 50051, { PORT: "0" });
 * config.port; // 0
 * ```
 */
export function loadBaseConfig(
  serviceName: string,
  defaultPort: number,
  source: EnvSource = Deno.env.toObject(),
): BaseConfig {
  const env = new EnvReader(source);
  const secrets = env.list("JWT_SECRETS", []);
  for (const secret of secrets) {
    if (secret.length < 32) {
      throw new ConfigError("JWT_SECRETS", "every secret must be at least 32 characters long");
    }
  }
  const certFile = env.raw("TLS_CERT_FILE");
  const keyFile = env.raw("TLS_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      certFile === undefined ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
      "must be set together with the other TLS file",
    );
  }
  const maxConnections = env.int("DB_MAX_CONNS", 25, { min: 1, max: 1000 });
  const minConnections = env.int("DB_MIN_CONNS", Math.min(5, maxConnections), {
    min: 0,
    max: 1000,
  });
  if (minConnections > maxConnections) {
    throw new ConfigError("DB_MIN_CONNS", `must not exceed DB_MAX_CONNS (${maxConnections})`);
  }
  return {
    serviceName,
    version: env.string("SERVICE_VERSION", "v1.0.0"),
    host: env.string("HOST", "0.0.0.0"),
    port: env.int("PORT", defaultPort, { min: 0, max: 65535 }),
    databaseUrl: env.url(
      "DATABASE_URL",
      "postgres://postgres@127.0.0.1:5432/freelance_platform",
      ["postgres", "postgresql"],
    ),
    natsUrl: env.urlList("NATS_URL", "nats://127.0.0.1:4222", ["nats", "tls"]),
    natsStreamReplicas: env.int("NATS_STREAM_REPLICAS", 1, { min: 1, max: 5 }),
    redisUrl: env.url("REDIS_URL", "redis://127.0.0.1:6379", ["redis", "rediss"]),
    jwtSecrets: secrets.length > 0 ? secrets : [DEVELOPMENT_JWT_SECRET],
    usingDevelopmentSecret: secrets.length === 0,
    tokenTtlSeconds: env.int("TOKEN_TTL_SECONDS", 3600, { min: 60, max: 30 * 86400 }),
    logLevel: env.oneOf("LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
    pool: {
      maxConnections,
      minConnections,
      healthCheckPeriodSeconds: env.int("DB_HEALTH_CHECK_PERIOD_SECONDS", 300, {
        min: 1,
        max: 86_400,
      }),
      maxLifetimeSeconds: env.int("DB_MAX_CONN_LIFETIME_SECONDS", 3600, { min: 1 }),
      idleTimeoutSeconds: env.int("DB_MAX_CONN_IDLE_SECONDS", 1800, { min: 1 }),
      connectTimeoutSeconds: env.int("DB_CONNECT_TIMEOUT_SECONDS", 5, { min: 1, max: 120 }),
      queryTimeoutMs: env.int("DB_QUERY_TIMEOUT_MS", 5000, { min: 10, max: 600_000 }),
    },
    maxMessageBytes: env.int("MAX_MESSAGE_BYTES", 4 * 1024 * 1024, { min: 1024, max: 64 << 20 }),
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    shutdownGraceMs: env.int("SHUTDOWN_GRACE_MS", 10_000, { min: 0, max: 300_000 }),
    shutdownDrainMs: env.int("SHUTDOWN_DRAIN_MS", 1000, { min: 0, max: 300_000 }),
    healthTimeoutMs: env.int("HEALTH_CHECK_TIMEOUT_MS", 1000, { min: 50, max: 30_000 }),
    cors: loadCorsConfig(source, secrets.length === 0),
    rpcFastPath: env.bool("RPC_FAST_PATH", true),
    requestBodyTimeoutMs: env.int("REQUEST_BODY_TIMEOUT_MS", 10_000, { min: 100, max: 600_000 }),
  };
}
