/**
 * The three emergency commands, each: look, show what would be done, confirm (or --yes), do it,
 * report what was done.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { redactUrl } from "@platform/lib/config";
import { EVENTS, TASKS_STREAM } from "@platform/lib/events";
import { PLATFORM_STREAMS } from "../doctor/checks/nats.ts";
import { confirm } from "../shared/confirm.ts";
import { closeQuietly, describeServer, openDatabase, OPS_SESSION_SPARE_MS } from "../shared/db.ts";
import { errorMessage, OpsError, UsageError } from "../shared/errors.ts";
import { formatBytes, formatCount, formatDuration, oneLine } from "../shared/format.ts";
import { connectNatsOnce } from "../shared/nats.ts";
import type { Output } from "../shared/output.ts";
import { connectRedisOnce } from "../shared/redis.ts";
import { renderTable } from "../shared/table.ts";
import { countKeys, deleteKeys, flushMemoryCaches, type KeyCensus } from "./flush_cache.ts";
import {
  describeStream,
  type PurgeOutcome,
  purgeStream,
  type StreamState,
} from "./purge_stream.ts";
import {
  findIdleInTransaction,
  type IdleSession,
  isOpsSession,
  isSparedOpsSession,
  terminateIdle,
} from "./terminate_idle.ts";

/** Result of terminate-idle. */
export interface TerminateIdleResult {
  /** The sessions to terminate, ops programs' sessions past their grace included. */
  found: IdleSession[];
  /**
   * Sessions of the ops programs (`fp-ops-*`, e.g. a running backup) whose transaction is younger
   * than `spareOpsForMs`: idle but left alone (none with `includeOps`).
   */
  spared: IdleSession[];
  /** The pids terminated. */
  terminated: number[];
  /** The pids left alone (no longer idle in a transaction, or gone). */
  notTerminated: number[];
}

/**
 * Finds sessions idle in a transaction for longer than `olderThanMs` and terminates them. The ops
 * programs' sessions (`fp-ops-*`, e.g. a running backup's snapshot) are spared while their
 * transaction is younger than `spareOpsForMs` (default 6h); `includeOps` spares none.
 *
 * @example
 * ```ts
 * await terminateIdleCommand(config.databaseUrl, 3_600_000, output, { yes: true });
 * ```
 */
export async function terminateIdleCommand(
  databaseUrl: string,
  olderThanMs: number,
  output: Output,
  options: { yes: boolean; allDatabases?: boolean; spareOpsForMs?: number; includeOps?: boolean },
): Promise<TerminateIdleResult> {
  const spareOptions = {
    spareOpsForMs: options.spareOpsForMs ?? OPS_SESSION_SPARE_MS,
    includeOps: options.includeOps === true,
  };
  const sql = await openDatabase(databaseUrl, { applicationName: "fp-ops-emergency", max: 1 });
  try {
    const idle = await findIdleInTransaction(sql, olderThanMs, options.allDatabases);
    const found = idle.filter((s) => !isSparedOpsSession(s, spareOptions));
    const spared = idle.filter((s) => isSparedOpsSession(s, spareOptions));
    const server = options.allDatabases
      ? `${describeServer(databaseUrl).replace(/\/[^/]*$/, "")} (all databases)`
      : describeServer(databaseUrl);
    const grace = formatDuration(spareOptions.spareOpsForMs);
    for (const s of spared) {
      output.line(
        `Left alone: pid ${s.pid} (${s.application}) idle in a transaction for ${
          formatDuration(s.idleSeconds * 1000)
        }: a session of the ops programs (a backup holds its snapshot open for the whole dump; ` +
          `terminating it would fail the backup), its transaction younger than ${grace}. ` +
          "If it is stuck, stop that program, or add --include-ops.",
      );
    }
    if (found.length === 0) {
      output.line(
        `No session on ${server} has been idle in a transaction for over ${
          formatDuration(olderThanMs)
        }. Nothing to do.`,
      );
      return { found, spared, terminated: [], notTerminated: [] };
    }
    output.line(
      `${found.length} session(s) on ${server} idle in a transaction for over ${
        formatDuration(olderThanMs)
      }:`,
    );
    output.line(
      renderTable(
        [
          { header: "pid", align: "right" },
          { header: "database" },
          { header: "user" },
          { header: "application" },
          { header: "client" },
          { header: "idle", align: "right" },
          { header: "last statement" },
        ],
        found.map((s) => [
          String(s.pid),
          s.database,
          s.user,
          s.application,
          s.client ?? "local",
          formatDuration(s.idleSeconds * 1000),
          oneLine(s.lastQuery, 60),
        ]),
      ),
    );
    for (const s of found.filter(isOpsSession)) {
      output.line(
        `Note: pid ${s.pid} (${s.application}) is a session of the ops programs, in a transaction ` +
          `for ${formatDuration(s.transactionSeconds * 1000)} (${
            spareOptions.includeOps ? "--include-ops" : `over ${grace}: presumed stuck`
          }); terminating it may fail that program (a backup whose pg_dump has not yet taken the ` +
          "snapshot fails; one already dumping carries on with a warning).",
      );
    }
    output.line("Their open transactions are rolled back; their clients see the connection drop.");
    confirm(output, { yes: options.yes, action: `terminate these ${found.length} session(s)` });
    const results = await terminateIdle(
      sql,
      found.map((s) => s.pid),
      olderThanMs,
      spareOptions,
    );
    const terminated = results.filter((r) => r.terminated).map((r) => r.pid);
    const notTerminated = results.filter((r) => !r.terminated).map((r) => r.pid);
    output.line(`Terminated ${terminated.length} session(s): ${terminated.join(", ") || "none"}`);
    if (notTerminated.length > 0) {
      output.line(
        `Left alone (no longer idle in a transaction, or gone): ${notTerminated.join(", ")}`,
      );
    }
    return { found, spared, terminated, notTerminated };
  } finally {
    await closeQuietly(sql);
  }
}

/** Result of flush-cache. */
export interface FlushCacheResult {
  /** The platform's keys before the flush. */
  before: KeyCensus;
  /** How many keys were deleted. */
  deleted: number;
  /** Keys left in the Redis database (other prefixes, or written since). */
  remainingDatabaseKeys: number;
}

/**
 * Deletes the platform's Redis keys (`prefix`*), never anything else.
 *
 * @example
 * ```ts
 * await flushCacheCommand(config.redisUrl, "fp:", output, { yes: true });
 * ```
 */
export async function flushCacheCommand(
  redisUrl: string,
  prefix: string,
  output: Output,
  options: { yes: boolean },
): Promise<FlushCacheResult> {
  const redis = await connectRedisOnce(redisUrl);
  try {
    const before = await countKeys(redis, prefix);
    const where = redactUrl(redisUrl);
    const memory = await flushMemoryCaches(redis, prefix);
    if (memory.channels.length > 0) {
      output.line(
        `Told ${memory.replicas} service replica(s) to drop their in-memory caches ` +
          `(${memory.channels.join(", ")}).`,
      );
    }
    if (before.total === 0) {
      output.line(
        `No ${prefix}* keys in ${where} (${
          formatCount(before.databaseKeys)
        } other keys untouched). Nothing to do.`,
      );
      return { before, deleted: 0, remainingDatabaseKeys: before.databaseKeys };
    }
    output.line(
      `${formatCount(before.total)} platform key(s) (${prefix}*) in ${where}: ` +
        Object.entries(before.byNamespace).map(([ns, n]) => `${ns}* ${formatCount(n)}`).join(", "),
    );
    output.line(
      `${
        formatCount(before.databaseKeys - before.total)
      } other key(s) in this database are not touched (no FLUSHDB).`,
    );
    output.line(
      "The services keep working and refill the cache from PostgreSQL (expect a short load spike).",
    );
    confirm(output, {
      yes: options.yes,
      action: `delete ${formatCount(before.total)} ${prefix}* key(s)`,
    });
    const deleted = await deleteKeys(redis, prefix);
    const remaining = await redis.dbsize();
    output.line(
      `Deleted ${formatCount(deleted)} key(s) under ${prefix}; ${
        formatCount(remaining)
      } key(s) remain in the database.`,
    );
    return { before, deleted, remainingDatabaseKeys: remaining };
  } finally {
    redis.disconnect();
  }
}

/** Result of purge-stream. */
export interface PurgeStreamResult {
  /** The stream and its consumers before the purge. */
  before: StreamState;
  /** How many messages were purged. */
  purged: number;
  /** Messages left: those published after the listing the operator confirmed. */
  remaining: number;
}

/**
 * Purges a platform stream (TASKS by default).
 *
 * @example
 * ```ts
 * await purgeStreamCommand(config.natsUrl, "TASKS", output, { yes: true });
 * ```
 */
export async function purgeStreamCommand(
  natsUrl: string,
  stream: string,
  output: Output,
  options: { yes: boolean },
): Promise<PurgeStreamResult> {
  if (!PLATFORM_STREAMS.includes(stream)) {
    throw new UsageError(`--stream must be one of ${PLATFORM_STREAMS.join(", ")}, got "${stream}"`);
  }
  const nc = await connectNatsOnce(natsUrl);
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    let before: StreamState;
    try {
      before = await describeStream(jsm, stream);
    } catch (error) {
      throw new OpsError(
        `cannot read stream ${stream}: ${errorMessage(error)}. Nothing was changed.`,
        {
          cause: error,
        },
      );
    }
    if (before.messages === 0) {
      output.line(`Stream ${stream} is empty. Nothing to do.`);
      return { before, purged: 0, remaining: 0 };
    }
    output.line(
      `Stream ${stream}: ${formatCount(before.messages)} message(s), ${
        formatBytes(before.bytes)
      }, ` +
        `sequences ${before.firstSeq}..${before.lastSeq}`,
    );
    for (const c of before.consumers) {
      output.line(
        `  consumer ${c.consumer}: ${formatCount(c.pending)} not yet delivered, ${
          formatCount(c.ackPending)
        } unacknowledged`,
      );
    }
    output.line(
      `Purging deletes these ${
        formatCount(before.messages)
      } message(s) (sequences up to ${before.lastSeq}) ` +
        "for good: events not yet handled are lost and nothing re-sends them (the outbox has " +
        "already marked them sent). Messages published after this listing are kept.",
    );
    if (stream === TASKS_STREAM.name) {
      output.line(
        `  Unmatched tasks whose ${EVENTS.taskCreated.subject} is purged are never matched. ` +
          "If a consumer is stuck, find and fix it first: deno task doctor (nats group).",
      );
    }
    confirm(output, {
      yes: options.yes,
      action: `purge the ${formatCount(before.messages)} message(s) of stream ${stream} ` +
        `(sequences up to ${before.lastSeq})`,
    });
    let outcome: PurgeOutcome;
    try {
      outcome = await purgeStream(jsm, stream, before.lastSeq);
    } catch (error) {
      throw new OpsError(`purge of stream ${stream} failed: ${errorMessage(error)}`, {
        cause: error,
        hint: `check with: deno task doctor --skip services,redis`,
      });
    }
    output.line(
      `Purged ${formatCount(outcome.purged)} message(s) from stream ${stream} (sequences up to ` +
        `${before.lastSeq}); ${formatCount(outcome.remaining)} message(s) remain` +
        (outcome.remaining > 0
          ? ` (published after the listing, sequences ${outcome.firstSeq}..${outcome.lastSeq}).`
          : "."),
    );
    return { before, purged: outcome.purged, remaining: outcome.remaining };
  } finally {
    await nc.close().catch(() => {});
  }
}
