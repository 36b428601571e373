/**
 * An in-process cache kept coherent across replicas through Redis: a hit costs no network hop,
 * and a change acknowledged by any replica is never served stale by another one more than
 * `leaseMs` (90 ms) after the acknowledgement.
 *
 * How:
 * - a writer changes the source of truth (PostgreSQL), then publishes the key on an invalidation
 *   channel and waits until Redis has accepted it before it acknowledges;
 * - every replica subscribes to the channel on a connection of its own and pings Redis over that
 *   same connection every `heartbeatMs`. Redis answers in order, so the answer to a ping sent at
 *   time s comes after every invalidation Redis accepted before s. A replica serves from memory
 *   only while it holds the answer to a ping sent within the last `leaseMs` (its lease), so an
 *   invalidation accepted before an acknowledgement at time t has reached it before it could
 *   serve anything after t + `leaseMs`;
 * - when the lease lapses (Redis frozen, the event loop stalled) the replica stops serving from
 *   memory at once and reads through to the source. Nothing is lost meanwhile: Redis delivers
 *   on the connection in order, so an invalidation published before a later ping is answered
 *   arrives before that answer, and serving resumes with it applied;
 * - when the invalidation connection is lost (Redis stopped or restarted, the network) messages
 *   published meanwhile are lost: the replica drops everything it holds, and again when the
 *   first ping on the new connection is answered, before it serves from memory again (it has
 *   resynchronised);
 * - misses are single-flighted: one load per key at a time, however many callers wait; a load
 *   that an invalidation overtakes is handed to its callers but not kept.
 *
 * The limit: a writer that cannot reach Redis while other replicas can (a partition between one
 * replica and Redis) retries its invalidation in the background; until it lands, other replicas
 * may serve the old value, at most until the entry's time-to-live (`ttlMs`) ends.
 *
 * @module
 */
import { Redis } from "ioredis";
import type { Logger } from "../log/logger.ts";
import { RedisSubscriber } from "./redis_subscriber.ts";
import { traceRedis } from "../tracing/redis_spans.ts";

/** Settings of a {@link CoherentCache}. */
export interface CoherentCacheOptions {
  /** REDIS_URL: the server both connections (publish, subscribe) go to. */
  redisUrl: string;
  /** The Redis pub/sub channel of this cache's invalidations ("fp:users:profile-invalidations"). */
  channel: string;
  /** How many entries at most (the oldest go first). */
  maxEntries: number;
  /** How long an entry lives at most, in ms (a safety net; invalidations do the real work). */
  ttlMs: number;
  /** How long an answered ping lets the replica serve from memory (the staleness bound), ms. */
  leaseMs?: number;
  /** How often to ping over the invalidation connection, ms. */
  heartbeatMs?: number;
  /**
   * How long a writer retries publishing an invalidation while connected before it gives up
   * waiting, ms (not at all when Redis is known to be down: then no replica serves from memory).
   */
  publishWaitMs?: number;
}

/** Counters a cache keeps, for metrics. */
export interface CoherentCacheStats {
  /** Reads answered from memory. */
  hits: number;
  /** Reads that called the loader. */
  misses: number;
  /** Times the cache dropped everything to resynchronise after losing its connection. */
  resyncs: number;
  /** Invalidations that could not be published in time (retried in the background). */
  publishFailures: number;
}

/** The value published to drop every entry (an operator's cache flush). */
export const INVALIDATE_ALL = "*";

interface Entry<V> {
  value: V;
  expiresAt: number;
}

interface Load<V> {
  promise: Promise<V | undefined>;
  /** Set when an invalidation of the key arrives while the load runs: its result is not kept. */
  overtaken: boolean;
}

/**
 * An in-process cache with cross-replica invalidation over Redis pub/sub.
 *
 * @example
 * ```ts ignore
 * const cache = new CoherentCache<User>({
 *   redisUrl: "redis://127.0.0.1:6379",
 *   channel: "fp:users:profile-invalidations",
 *   maxEntries: 10_000,
 *   ttlMs: 60_000,
 * }, logger);
 * const user = await cache.get(id, () => store.findById(id));
 * await store.update(id, patch);
 * await cache.invalidate(id); // then acknowledge
 * ```
 */
export class CoherentCache<V> {
  /** Counters since the cache was created (see {@linkcode registerCacheMetrics}). */
  readonly stats: CoherentCacheStats = { hits: 0, misses: 0, resyncs: 0, publishFailures: 0 };
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loads = new Map<string, Load<V>>();
  private readonly subscriber: RedisSubscriber;
  /** The connection invalidations are published on (its status tells whether Redis answers). */
  readonly client: Redis;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly publishWaitMs: number;
  /** performance.now() until which memory may be served. */
  private validUntil = 0;
  /** Bumped whenever entries may have missed an invalidation; loads from before are not kept. */
  private generation = 0;
  private lastPingAt = 0;
  private closed = false;
  /**
   * No answered ping since (re)connecting: the first answer resynchronises (drops whatever was
   * loaded before the subscription was sure to be in place).
   */
  private lapsed = true;
  private everSynchronised = false;
  private readonly pendingPublishes = new Set<string>();
  private readonly heartbeat: ReturnType<typeof setInterval>;
  private readonly retry: ReturnType<typeof setInterval>;

  /**
   * Creates the cache and opens its Redis connections (it serves from memory once Redis answers).
   *
   * @param options Where Redis is, the channel, and the bounds.
   * @param logger Where losing and regaining Redis is logged.
   */
  constructor(private readonly options: CoherentCacheOptions, private readonly logger: Logger) {
    this.leaseMs = options.leaseMs ?? 90;
    this.heartbeatMs = options.heartbeatMs ?? 25;
    this.publishWaitMs = options.publishWaitMs ?? 300;
    const common = {
      connectTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 100, 1000),
      lazyConnect: false,
    };
    this.client = new Redis(options.redisUrl, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 150,
    });
    this.client.on("error", () => {});
    this.client.on("ready", () => void this.flushPendingPublishes());
    this.subscriber = new RedisSubscriber(options.redisUrl, options.channel, {
      message: (key) => this.drop(key),
      pong: (sentAt) => this.answered(sentAt),
      connected: () => {},
      disconnected: () => this.connectionLost(),
    });
    this.heartbeat = setInterval(() => this.heartbeatTick(), this.heartbeatMs);
    this.retry = setInterval(() => {
      if (this.pendingPublishes.size > 0) void this.flushPendingPublishes();
    }, 500);
    Deno.unrefTimer(this.heartbeat as unknown as number);
    Deno.unrefTimer(this.retry as unknown as number);
  }

  /** True while entries may be served from memory (the lease holds). */
  synchronised(): boolean {
    return performance.now() <= this.validUntil;
  }

  /** How many entries are held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value for `key`: from memory while synchronised, otherwise from `load` (one load per key
   * at a time). `undefined` from `load` (not found) is not cached.
   */
  get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    if (performance.now() <= this.validUntil) {
      const entry = this.entries.get(key);
      if (entry !== undefined) {
        if (entry.expiresAt > Date.now()) {
          this.stats.hits++;
          return Promise.resolve(entry.value);
        }
        this.entries.delete(key);
      }
    }
    this.stats.misses++;
    const running = this.loads.get(key);
    if (running) return running.promise;
    return this.startLoad(key, load);
  }

  /**
   * Drops `key` here and publishes its invalidation to every replica; resolves once Redis has
   * accepted it (or after `publishWaitMs` of failed attempts: then it is retried in the
   * background). Call after the change is committed and before acknowledging it.
   */
  async invalidate(key: string): Promise<void> {
    this.drop(key);
    const deadline = performance.now() + this.publishWaitMs;
    for (let attempt = 0;; attempt++) {
      try {
        await traceRedis("PUBLISH", () => this.client.publish(this.options.channel, key));
        return;
      } catch (error) {
        const down = this.client.status !== "ready";
        if (down || performance.now() + 100 > deadline || this.closed) {
          this.stats.publishFailures++;
          this.pendingPublishes.add(key);
          this.logger.warn("cache invalidation not published; retrying in the background", {
            channel: this.options.channel,
            error: (error as Error).message,
            note: "other replicas stop serving from memory while Redis is unreachable for them",
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (attempt + 1), 200)));
      }
    }
  }

  /** Drops every entry on every replica (an operator's flush). */
  invalidateAll(): Promise<void> {
    return this.invalidate(INVALIDATE_ALL);
  }

  /** The health check of the cache's Redis: PING on the publishing connection. */
  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** Stops the timers and closes both connections. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.retry);
    if (this.pendingPublishes.size > 0) {
      this.logger.warn("stopping with cache invalidations Redis never received", {
        keys: this.pendingPublishes.size,
        note: "other replicas may serve these entries until their time-to-live",
      });
    }
    this.subscriber.close();
    this.client.disconnect();
  }

  /**
   * Runs `load` for `key`, sharing it with concurrent readers; keeps its result unless an
   * invalidation (of the key, or of everything) arrived meanwhile.
   */
  private startLoad(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const generation = this.generation;
    const entry: Load<V> = { promise: undefined as never, overtaken: false };
    entry.promise = (async () => {
      try {
        const value = await load();
        if (value !== undefined && !entry.overtaken && generation === this.generation) {
          this.store(key, value);
        }
        return value;
      } finally {
        if (this.loads.get(key) === entry) this.loads.delete(key);
      }
    })();
    this.loads.set(key, entry);
    return entry.promise;
  }

  /** Keeps `value` for `key` (as the newest entry), dropping the oldest beyond `maxEntries`. */
  private store(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: Date.now() + this.options.ttlMs });
    if (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  /** Drops `key` (everything for {@linkcode INVALIDATE_ALL}); a load of it in flight is not kept. */
  private drop(key: string): void {
    if (key === INVALIDATE_ALL) {
      this.dropAll();
      return;
    }
    this.entries.delete(key);
    const load = this.loads.get(key);
    if (load) {
      load.overtaken = true;
      this.loads.delete(key);
    }
  }

  /** Drops every entry; no load in flight is kept. */
  private dropAll(): void {
    this.entries.clear();
    this.generation++;
    for (const load of this.loads.values()) load.overtaken = true;
    this.loads.clear();
  }

  /** Stops serving from memory and drops everything (invalidations may be missed from now on). */
  private connectionLost(): void {
    if (!this.lapsed && !this.closed) {
      this.logger.warn("cache stopped serving from memory: its Redis connection was lost", {
        channel: this.options.channel,
      });
    }
    this.lapsed = true;
    this.validUntil = 0;
    this.dropAll();
  }

  /** Sends a ping on the subscriber connection (one at a time, unless the last waited a second). */
  private heartbeatTick(): void {
    if (this.closed || !this.subscriber.ready) return;
    const now = performance.now();
    // One ping at a time, unless the last one has waited a second (Redis frozen): then another,
    // answered in order once Redis answers again.
    if (this.subscriber.outstanding > 0 && now - this.lastPingAt < 1000) return;
    this.lastPingAt = now;
    this.subscriber.ping();
  }

  /**
   * A ping sent at `sentAt` was answered: memory may be served until `sentAt + leaseMs`
   * (the first answer on a new connection drops everything first).
   */
  private answered(sentAt: number): void {
    if (this.lapsed) {
      // First answer on a new connection: what was published while there was none is lost.
      this.lapsed = false;
      this.dropAll();
      if (this.everSynchronised) {
        this.stats.resyncs++;
        this.logger.info("cache resynchronised with Redis", { channel: this.options.channel });
      }
      this.everSynchronised = true;
    }
    this.validUntil = Math.max(this.validUntil, sentAt + this.leaseMs);
  }

  /** Publishes the invalidations that failed earlier, while Redis is ready; stops at the first failure. */
  private async flushPendingPublishes(): Promise<void> {
    if (this.client.status !== "ready") return;
    for (const key of [...this.pendingPublishes]) {
      try {
        await this.client.publish(this.options.channel, key);
        this.pendingPublishes.delete(key);
      } catch {
        return;
      }
    }
  }
}
