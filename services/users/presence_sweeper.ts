/**
 * Takes developers offline when their heartbeats stop (each with a `presence.expired` event, see
 * presence_commands.ts), and keeps `users_online_count` current. Safe with several replicas: the
 * UPDATE takes each expired row once.
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
import { Loop } from "@platform/lib/runtime";
import type { ProfileCache } from "./profile_cache.ts";

/** What the sweeper expires presence through (PresenceCommands). */
export interface PresenceExpiry {
  /** Takes offline whoever's presence ran out; returns their ids. */
  expirePresence(): Promise<string[]>;
}

/**
 * Runs the sweep on an interval until stopped.
 *
 * @example
 * ```ts
 * const sweeper = new PresenceSweeper(presenceCommands, profiles, logger, 5000);
 * sweeper.start();
 * await sweeper.stop();
 * ```
 */
export class PresenceSweeper {
  private readonly loop: Loop;

  constructor(
    private readonly store: PresenceExpiry,
    private readonly profiles: ProfileCache,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly afterSweep: () => Promise<void> = async () => {},
  ) {
    // The first sweep one interval after start, then one interval after each sweep ends.
    this.loop = new Loop({
      initialDelayMs: intervalMs,
      round: async () => {
        try {
          await this.sweepOnce();
        } catch (error) {
          this.logger.warn("presence sweep failed", { error });
        }
        return intervalMs;
      },
    });
  }

  /** Starts sweeping. */
  start(): void {
    this.loop.start();
  }

  /** One sweep: returns how many developers went offline. */
  async sweepOnce(): Promise<number> {
    const expired = await this.store.expirePresence();
    for (const id of expired) await this.profiles.invalidate(id);
    if (expired.length > 0) {
      this.logger.info("presence expired", { went_offline: expired.length });
    }
    await this.afterSweep();
    return expired.length;
  }

  /** Stops after the sweep in progress, if any. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
