/**
 * The ops programs' settings, read from the same environment variables as the services (plus the
 * backup target's). Every bad value names its variable.
 *
 * @module
 */
import { ConfigError, EnvReader, type EnvSource } from "@platform/lib/config";
import type { RetentionSettings } from "../maintenance/retention.ts";

/** S3-compatible object storage for backups. */
export interface S3Settings {
  /** S3_BUCKET. */
  bucket: string;
  /** Key prefix, ending in "/" unless empty (the manual's `db-backups/`). */
  prefix: string;
  /** S3_ENDPOINT, for S3-compatible storage (MinIO, ...); unset for AWS. */
  endpoint?: string;
  /** S3_REGION, else AWS_REGION, else `us-east-1`. */
  region: string;
  /** S3_FORCE_PATH_STYLE (default: true when an endpoint is set). */
  forcePathStyle: boolean;
  /** AWS_ACCESS_KEY_ID; unset: the SDK's default credential chain. */
  accessKeyId?: string;
  /** AWS_SECRET_ACCESS_KEY. */
  secretAccessKey?: string;
  /** AWS_SESSION_TOKEN. */
  sessionToken?: string;
}

/** The platform's three services, by name, with the URL their `/health` is served on. */
export interface ServiceUrls {
  /** USERS_URL (default `http://127.0.0.1:50051`). */
  users: string;
  /** TASKS_URL (default `http://127.0.0.1:50052`). */
  tasks: string;
  /** ORCHESTRATOR_URL (default `http://127.0.0.1:50053`). */
  orchestrator: string;
}

/** Everything the ops programs read from the environment. */
export interface OpsConfig {
  /** DATABASE_URL. */
  databaseUrl: string;
  /** NATS_URL (default `nats://127.0.0.1:4222`). */
  natsUrl: string;
  /** REDIS_URL (default `redis://127.0.0.1:6379`). */
  redisUrl: string;
  /** Prefix of every Redis key the platform writes; flush-cache deletes only these. */
  redisKeyPrefix: string;
  /** The services' URLs. */
  services: ServiceUrls;
  /** The services whose URL was set explicitly (restore waits for their /health). */
  servicesGiven: (keyof ServiceUrls)[];
  /** BACKUP_DIR, the local backup directory (default `./backups`). */
  backupDir: string;
  /** BACKUP_KEEP, how many backups retention keeps (default 7). */
  backupKeep: number;
  /** Set when S3_BUCKET is: backups then go to S3 unless `--target local`. */
  s3?: S3Settings;
  /** Hour (0-23, local time) in which maintenance reindexes without being asked. */
  reindexHour: number;
  /**
   * What maintenance deletes (ops/maintenance/retention.ts): published outbox rows after
   * RETENTION_OUTBOX_DAYS (7), the orchestrator's rows of tasks closed RETENTION_CLOSED_TASK_DAYS
   * (365) ago, RETENTION_BATCH (5000) rows a transaction; 0 days keeps everything.
   */
  retention: RetentionSettings;
  /** Directory of pg_dump/pg_restore/psql, when not the newest found on the machine. */
  pgBinDir?: string;
}

/**
 * Reads the settings; throws ConfigError naming the variable on a bad value.
 *
 * @example
 * ```ts
 * const config = loadOpsConfig({ BACKUP_KEEP: "14" });
 * config.backupKeep; // 14
 * ```
 */
export function loadOpsConfig(source: EnvSource = Deno.env.toObject()): OpsConfig {
  const env = new EnvReader(source);
  const bucket = env.raw("S3_BUCKET");
  let s3: S3Settings | undefined;
  if (bucket) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError("S3_BUCKET", "must be a valid bucket name", bucket);
    }
    const endpoint = env.raw("S3_ENDPOINT")
      ? env.url("S3_ENDPOINT", "", ["http", "https"])
      : undefined;
    let prefix = env.string("S3_PREFIX", "db-backups/").replace(/^\/+/, "");
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    s3 = {
      bucket,
      prefix,
      endpoint,
      region: env.raw("S3_REGION") ?? env.raw("AWS_REGION") ?? "us-east-1",
      forcePathStyle: env.bool("S3_FORCE_PATH_STYLE", endpoint !== undefined),
      accessKeyId: env.raw("AWS_ACCESS_KEY_ID"),
      secretAccessKey: env.raw("AWS_SECRET_ACCESS_KEY"),
      sessionToken: env.raw("AWS_SESSION_TOKEN"),
    };
  }
  const serviceUrl = (name: string, port: number) =>
    env.url(name, `http://127.0.0.1:${port}`, ["http", "https"]).replace(/\/+$/, "");
  const redisKeyPrefix = env.string("REDIS_KEY_PREFIX", "fp:");
  if (redisKeyPrefix.length < 2 || /[*?[\]]/.test(redisKeyPrefix)) {
    throw new ConfigError(
      "REDIS_KEY_PREFIX",
      "must be at least 2 characters with no glob characters",
      redisKeyPrefix,
    );
  }
  return {
    databaseUrl: env.url(
      "DATABASE_URL",
      "postgres://postgres@127.0.0.1:5432/freelance_platform",
      ["postgres", "postgresql"],
    ),
    natsUrl: env.string("NATS_URL", "nats://127.0.0.1:4222"),
    redisUrl: env.url("REDIS_URL", "redis://127.0.0.1:6379", ["redis", "rediss"]),
    redisKeyPrefix,
    services: {
      users: serviceUrl("USERS_URL", 50051),
      tasks: serviceUrl("TASKS_URL", 50052),
      orchestrator: serviceUrl("ORCHESTRATOR_URL", 50053),
    },
    servicesGiven: (["users", "tasks", "orchestrator"] as const).filter((name) =>
      env.raw(`${name.toUpperCase()}_URL`) !== undefined
    ),
    backupDir: env.string("BACKUP_DIR", "./backups"),
    backupKeep: env.int("BACKUP_KEEP", 7, { min: 1, max: 10_000 }),
    s3,
    reindexHour: env.int("MAINTENANCE_REINDEX_HOUR", 3, { min: 0, max: 23 }),
    retention: {
      outboxDays: env.int("RETENTION_OUTBOX_DAYS", 7, { min: 0, max: 36_500 }),
      closedTaskDays: env.int("RETENTION_CLOSED_TASK_DAYS", 365, { min: 0, max: 36_500 }),
      batch: env.int("RETENTION_BATCH", 5000, { min: 1, max: 100_000 }),
    },
    pgBinDir: env.raw("PG_BIN_DIR"),
  };
}
