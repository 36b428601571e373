/**
 * The platform's JetStream streams, created or updated at start: `TASKS` (task.>), `PROPOSALS`
 * (proposal.>), `PRESENCE` (presence.>) and `NOTIFICATIONS` (notify.>), file storage, with a
 * duplicate window so that a republished event (same Nats-Msg-Id) is stored once. Which event goes
 * to which stream is the catalog's (catalog.ts).
 *
 * @module
 */
import {
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log/logger.ts";
import { connectNats } from "./nats_connection.ts";

/** One stream the platform uses. */
export interface StreamSpec {
  /** The stream's name, e.g. `TASKS`. */
  name: string;
  /** The subjects it stores (wildcards allowed), e.g. `task.>`. */
  subjects: string[];
  /** Duplicate window in milliseconds. */
  duplicateWindowMs: number;
  /** Oldest message age kept, in milliseconds (0: unlimited). */
  maxAgeMs: number;
}

/**
 * Two minutes. Not longer than every relay retry: retries are unbounded (a NATS outage is retried
 * until it ends). The guarantee is narrower: the outbox relay marks a row published right after
 * its publish is acked, in the same transaction, so a row is sent again only when the ack was
 * lost (a publish timeout, retried with the same id after a backoff of seconds) or when a crash
 * or database failure came between the ack and the commit of the mark. Such a retry within the
 * window is dropped by JetStream; one later than the window (the database down that long) is
 * stored twice, and consumers stay idempotent by event id for that case.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The task events stream. */
export const TASKS_STREAM: StreamSpec = {
  name: "TASKS",
  subjects: ["task.>"],
  duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
  maxAgeMs: 30 * 86_400_000,
};

/** The proposal events stream. */
export const PROPOSALS_STREAM: StreamSpec = {
  name: "PROPOSALS",
  subjects: ["proposal.>"],
  duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
  maxAgeMs: 30 * 86_400_000,
};

/**
 * The presence events stream (presence.online, .offline, .expired, .skills_changed), published by
 * the User Service through its outbox. Presence is only worth knowing for a while: 7 days.
 */
export const PRESENCE_STREAM: StreamSpec = {
  name: "PRESENCE",
  subjects: ["presence.>"],
  duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
  maxAgeMs: 7 * 86_400_000,
};

/**
 * How long a user's notifications are kept: a Watch resumed with a cursor older than this may have
 * missed some (it is told so with a gap frame).
 */
export const NOTIFICATION_RETENTION_MS: number = 7 * 86_400_000;

/**
 * The notifications stream: one subject per user and kind, `notify.<user_id>.<kind>`, written by
 * the Task Service and the Orchestrator through their outboxes and read by `Watch` (a consumer
 * filtered to the caller's `notify.<user_id>.>`). Kept {@link NOTIFICATION_RETENTION_MS}.
 */
export const NOTIFICATIONS_STREAM: StreamSpec = {
  name: "NOTIFICATIONS",
  subjects: ["notify.>"],
  duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
  maxAgeMs: NOTIFICATION_RETENTION_MS,
};

/** Every stream of the platform, in the order they are created. */
export const PLATFORM_STREAM_SPECS: readonly StreamSpec[] = [
  TASKS_STREAM,
  PROPOSALS_STREAM,
  PRESENCE_STREAM,
  NOTIFICATIONS_STREAM,
];

const ms = (value: number) => value * 1_000_000; // nanoseconds

/** How the platform's streams are stored. */
export interface StreamOptions {
  /**
   * Copies of each stream in a NATS cluster (`NATS_STREAM_REPLICAS`): 1 for a single server, 3
   * for a three-node cluster, so that losing one node (the stream leader included) loses no
   * acknowledged event. Changing it on a running cluster rescales the existing streams.
   */
  replicas?: number;
}

/**
 * Creates the stream, or updates its subjects, windows and replica count when it exists.
 *
 * @example
 * ```ts ignore
 * await ensureStream(await jetstreamManager(nc), TASKS_STREAM, { replicas: 3 });
 * ```
 */
export async function ensureStream(
  jsm: JetStreamManager,
  spec: StreamSpec,
  options: StreamOptions = {},
): Promise<void> {
  const wanted: Partial<StreamConfig> = {
    subjects: spec.subjects,
    duplicate_window: ms(spec.duplicateWindowMs),
    max_age: ms(spec.maxAgeMs),
    num_replicas: options.replicas ?? 1,
  };
  try {
    const info = await jsm.streams.info(spec.name);
    const current = info.config;
    const same = current.subjects.join(",") === spec.subjects.join(",") &&
      current.duplicate_window === wanted.duplicate_window && current.max_age === wanted.max_age &&
      (current.num_replicas || 1) === wanted.num_replicas;
    if (!same) await jsm.streams.update(spec.name, { ...current, ...wanted });
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    try {
      await jsm.streams.add({
        name: spec.name,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        ...wanted,
      });
    } catch (addError) {
      // Another replica created it meanwhile: depending on timing the server says "already in
      // use" or even "subjects overlap" (with the stream being created under the same name), so
      // the stream's own existence decides. A real overlap (another stream owns the subjects)
      // still fails: no stream of this name exists then.
      const created = await jsm.streams.info(spec.name).then(() => true, () => false);
      if (!created) throw addError;
    }
  }
}

/**
 * Ensures the platform's streams exist.
 *
 * @example
 * ```ts ignore
 * await ensurePlatformStreams(nc);
 * ```
 */
export async function ensurePlatformStreams(
  nc: NatsConnection,
  specs: readonly StreamSpec[] = PLATFORM_STREAM_SPECS,
  options: StreamOptions = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const spec of specs) await ensureStream(jsm, spec, options);
}

function isStreamNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(e?.message ?? "");
}

/**
 * Connects to NATS and makes sure the platform's streams exist, retrying both with capped
 * backoff until `signal` aborts (then resolves undefined). What a service runs in the background
 * at start, so that it serves while NATS is still down.
 *
 * @example
 * ```ts ignore
 * const nc = await connectWithStreams(config.natsUrl, "taskservice", logger, abort.signal, {
 *   replicas: config.natsStreamReplicas,
 * });
 * if (nc) relay.start();
 * ```
 */
export async function connectWithStreams(
  url: string,
  name: string,
  logger: Logger,
  signal: AbortSignal,
  options: StreamOptions = {},
): Promise<NatsConnection | undefined> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(url, name, logger, signal);
  } catch (error) {
    if (!signal.aborted) logger.error("NATS connection abandoned", { error });
    return undefined;
  }
  for (let delay = 250; !signal.aborted; delay = Math.min(delay * 2, 5000)) {
    try {
      await ensurePlatformStreams(nc, undefined, options);
      logger.info("NATS connected; streams ready", { stream_replicas: options.replicas ?? 1 });
      return nc;
    } catch (error) {
      logger.warn("JetStream streams not ready; retrying", { error, retry_in_ms: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  await nc.close();
  return undefined;
}
