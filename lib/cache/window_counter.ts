/**
 * Counters in fixed time windows, shared by every replica through Redis (one Lua script: INCR and,
 * on the window's first hit, PEXPIRE), and kept in this process's memory while Redis does not
 * answer, so a limit still holds (per replica) when Redis is down. The memory fallback holds at
 * most `maxLocalKeys` counters; beyond that ended windows go first, then the least recently hit.
 *
 * @module
 */
import type { Redis } from "ioredis";

/** One counter's state. */
export interface WindowCount {
  /** Hits in the current window (0 when there is none). */
  count: number;
  /** Milliseconds until the window ends (0 when there is none). */
  resetInMs: number;
}

/** Settings of a {@link WindowCounter}. */
export interface WindowCounterOptions {
  /** Prefix of every key written to Redis, e.g. `fp:users:throttle:`. */
  keyPrefix: string;
  /** Counters kept in memory at most while Redis is down. Default 100 000. */
  maxLocalKeys?: number;
  /** Called when Redis fails and memory takes over (once per failure spell). */
  onFallback?: (error: unknown) => void;
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

const PEEK = `
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(n), ttl}`;

/**
 * Fixed-window counters.
 *
 * @example
 * ```ts ignore
 * const counter = new WindowCounter(redis, { keyPrefix: "fp:users:throttle:" });
 * const { count, resetInMs } = await counter.hit("login:a:1f2e", 3_600_000);
 * ```
 */
export class WindowCounter {
  private readonly local = new Map<string, { count: number; endsAt: number }>();
  private readonly maxLocalKeys: number;
  private failing = false;

  /**
   * Creates the counters over a Redis connection that fails fast (no offline queue).
   *
   * @param redis The connection; its failures send the counters to memory.
   * @param options The key prefix and the memory bound.
   */
  constructor(private readonly redis: Redis, private readonly options: WindowCounterOptions) {
    this.maxLocalKeys = options.maxLocalKeys ?? 100_000;
  }

  /** Counts one hit on `key` in a window of `windowMs` that starts with its first hit. */
  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const shared = await this.run(HIT, key, windowMs);
    if (shared) return shared;
    const now = Date.now();
    let entry = this.local.get(key);
    if (!entry || entry.endsAt <= now) {
      this.local.delete(key);
      entry = { count: 0, endsAt: now + windowMs };
      this.makeRoom(now);
    }
    // Re-inserted, so the map's order is that of the last hits: the least recent goes first.
    this.local.delete(key);
    entry.count++;
    this.local.set(key, entry);
    return { count: entry.count, resetInMs: entry.endsAt - now };
  }

  /** The current count of `key`, without counting. */
  async peek(key: string): Promise<WindowCount> {
    const shared = await this.run(PEEK, key, 0);
    if (shared) return shared;
    const entry = this.local.get(key);
    const now = Date.now();
    if (!entry || entry.endsAt <= now) return { count: 0, resetInMs: 0 };
    return { count: entry.count, resetInMs: entry.endsAt - now };
  }

  /** How many counters memory holds now (Redis down or not yet reconciled). */
  get localKeys(): number {
    return this.local.size;
  }

  /** Runs a script on Redis; undefined when Redis cannot answer (memory takes over). */
  private async run(
    script: string,
    key: string,
    windowMs: number,
  ): Promise<WindowCount | undefined> {
    if (this.redis.status !== "ready") return this.fallBack(new Error("redis is not connected"));
    try {
      const [count, ttl] = await this.redis.eval(
        script,
        1,
        this.options.keyPrefix + key,
        String(windowMs),
      ) as [number, number];
      this.failing = false;
      const local = this.local.get(key);
      // Hits counted in memory while Redis was down are not in Redis: they add up, until the
      // window they were counted in ends.
      const now = Date.now();
      if (local && local.endsAt > now) {
        return {
          count: count + local.count,
          resetInMs: Math.max(0, ttl, local.endsAt - now),
        };
      }
      return { count, resetInMs: Math.max(0, ttl) };
    } catch (error) {
      return this.fallBack(error);
    }
  }

  /** Reports the first failure of a spell; memory takes over (undefined). */
  private fallBack(error: unknown): undefined {
    if (!this.failing) this.options.onFallback?.(error);
    this.failing = true;
    return undefined;
  }

  /** Drops ended windows, then the least recently hit, until there is room for one more. */
  private makeRoom(now: number): void {
    if (this.local.size < this.maxLocalKeys) return;
    for (const [key, entry] of this.local) {
      if (entry.endsAt <= now) this.local.delete(key);
    }
    for (const key of this.local.keys()) {
      if (this.local.size < this.maxLocalKeys) break;
      this.local.delete(key);
    }
  }
}
