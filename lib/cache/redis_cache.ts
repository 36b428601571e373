/**
 * Redis as a non-critical cache. It fails fast (no offline queue, no retries per request,
 * short connect and command timeouts) and, after a failure, is skipped for a short while, so a
 * dead or stalled Redis costs a request almost nothing.
 *
 * Cached data does not outlive an update:
 * - an invalidation writes a tombstone (not a delete) that lives longer than any database read
 *   may take, and values are only ever added with SET NX, so a reader that fetched the old row
 *   before the update cannot put it back;
 * - an invalidation that cannot be sent (Redis down or frozen) is kept and sent before this
 *   process reads the cache again, and retried in the background until it lands.
 *
 * The one gap: a replica that stops while Redis is unreachable loses its unsent invalidations;
 * other replicas may then serve that entry until its TTL (the profile TTL, 60 s by default).
 *
 * @module
 */
import { Redis } from "ioredis";
import type { Logger } from "../log/logger.ts";

/** What an invalidated key holds until its tombstone expires. */
const TOMBSTONE = "\u0000invalidated";

/** Tuning of the cache's failure handling. */
export interface RedisCacheOptions {
  /** Prefix of every key this service writes ("fp:users:"), so flushes touch only ours. */
  keyPrefix: string;
  /** How long an invalidation blocks re-caching: longer than the slowest database read. */
  tombstoneSeconds?: number;
  /** How long a Redis command may take before it counts as a failure. Default 150. */
  commandTimeoutMs?: number;
  /** How long to skip Redis after a failure. */
  backoffMs?: number;
}

/**
 * A JSON cache with time-to-live.
 *
 * @example
 * ```ts
 * const cache = new RedisCache("redis://127.0.0.1:6379", { keyPrefix: "fp:users:" }, logger);
 * await cache.set("user:1", { id: "1" }, 60);
 * await cache.get<{ id: string }>("user:1");
 * ```
 */
export class RedisCache {
  /** The Redis connection (no offline queue, no retries: a command fails fast). */
  readonly client: Redis;
  private skipUntil = 0;
  private readonly pendingDeletes = new Set<string>();
  private readonly backoffMs: number;
  private readonly tombstoneSeconds: number;

  /**
   * Creates the cache and connects to Redis.
   *
   * @param url REDIS_URL.
   * @param options The key prefix and the failure handling.
   * @param logger Where failures are logged (once per backoff).
   */
  constructor(url: string, readonly options: RedisCacheOptions, private readonly logger: Logger) {
    const commandTimeout = options.commandTimeoutMs ?? 150;
    this.backoffMs = options.backoffMs ?? 2000;
    this.tombstoneSeconds = options.tombstoneSeconds ?? 15;
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.on("error", () => {}); // failures are handled per command
    this.client.on("ready", () => void this.flushPending());
    this.retryTimer = setInterval(() => {
      if (this.pendingDeletes.size > 0) void this.flushPending();
    }, 500);
    Deno.unrefTimer(this.retryTimer as unknown as number);
  }

  private readonly retryTimer: ReturnType<typeof setInterval>;

  /** The cached value, or undefined on a miss or when Redis is unavailable. */
  async get<T>(key: string): Promise<T | undefined> {
    if (!(await this.usable())) return undefined;
    try {
      const raw = await this.client.get(this.options.keyPrefix + key);
      return raw === null || raw === TOMBSTONE ? undefined : JSON.parse(raw) as T;
    } catch (error) {
      this.fail("get", error);
      return undefined;
    }
  }

  /**
   * Stores a value unless the key holds one already or a tombstone (SET NX), or Redis is
   * unavailable (then does nothing).
   */
  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    if (!(await this.usable())) return;
    try {
      await this.client.set(
        this.options.keyPrefix + key,
        JSON.stringify(value),
        "EX",
        ttlSeconds,
        "NX",
      );
    } catch (error) {
      this.fail("set", error);
    }
  }

  /**
   * Invalidates a key: writes a tombstone that keeps it uncached for `tombstoneSeconds`. If Redis
   * is unavailable, remembers the key and writes the tombstone before the cache is read again.
   */
  async delete(key: string): Promise<void> {
    this.pendingDeletes.add(key);
    await this.flushPending();
  }

  /** Deletes every key of this cache's prefix (SCAN, never FLUSHDB); returns how many. */
  async clear(): Promise<number> {
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await this.client.scan(
        cursor,
        "MATCH",
        `${this.options.keyPrefix}*`,
        "COUNT",
        500,
      );
      cursor = next;
      if (keys.length > 0) deleted += await this.client.del(...keys);
    } while (cursor !== "0");
    return deleted;
  }

  /** The health check: PING. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** Closes the connection. */
  close(): void {
    clearInterval(this.retryTimer);
    if (this.pendingDeletes.size > 0) {
      this.logger.warn("stopping with cache invalidations Redis never received", {
        keys: this.pendingDeletes.size,
        note: "other replicas may serve these entries until their TTL",
      });
    }
    this.client.disconnect();
  }

  /** Whether to use Redis now: connected, not backing off, and every pending invalidation delivered. */
  private async usable(): Promise<boolean> {
    if (Date.now() < this.skipUntil || this.client.status !== "ready") return false;
    if (this.pendingDeletes.size === 0) return true;
    return await this.flushPending();
  }

  /** Writes the tombstones of invalidations Redis has not received yet; false when it still cannot. */
  private async flushPending(): Promise<boolean> {
    if (this.pendingDeletes.size === 0) return true;
    if (Date.now() < this.skipUntil || this.client.status !== "ready") return false;
    const keys = [...this.pendingDeletes];
    try {
      const pipeline = this.client.pipeline();
      for (const key of keys) {
        pipeline.set(this.options.keyPrefix + key, TOMBSTONE, "EX", this.tombstoneSeconds);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
      keys.forEach((key) => this.pendingDeletes.delete(key));
      return true;
    } catch (error) {
      this.fail("delete", error);
      return false;
    }
  }

  /** Logs a failure (once per backoff) and skips Redis for `backoffMs`. */
  private fail(operation: string, error: unknown): void {
    if (Date.now() >= this.skipUntil) {
      this.logger.warn("redis cache unavailable; serving from the database", {
        operation,
        error,
        retry_in_ms: this.backoffMs,
      });
    }
    this.skipUntil = Date.now() + this.backoffMs;
  }
}
