/**
 * Takes developers offline when their heartbeats stop (each with a `presence.expired` event, see
 * presence_commands.ts), and keeps `users_online_count` current. Safe with several replicas: the
 * UPDATE takes each expired row once.
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
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
  private timer?: ReturnType<typeof setTimeout>;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly store: PresenceExpiry,
    private readonly profiles: ProfileCache,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly afterSweep: () => Promise<void> = async () => {},
  ) {}

  /** Starts sweeping. */
  start(): void {
    this.schedule();
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
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .then(() => {})
        .catch((error) => this.logger.warn("presence sweep failed", { error }))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }
}
