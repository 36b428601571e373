/**
 * A throwaway Redis server on a free port that tests may stop, freeze and start again.
 *
 * @module
 */
import { freePort, hasCommand, spawnTracked, type TrackedProcess, waitUntil } from "./processes.ts";

/**
 * A Redis instance owned by the test.
 *
 * @example
 * ```ts
 * const redis = await RedisServer.start();
 * redis.url; // "redis://127.0.0.1:40001"
 * ```
 */
export class RedisServer {
  private process?: TrackedProcess;

  private constructor(readonly port: number, private readonly externalUrl?: string) {}

  /** Starts a fresh instance (or wraps TEST_REDIS_URL when redis-server is not installed). */
  static async start(): Promise<RedisServer> {
    if (!hasCommand("redis-server")) {
      const url = Deno.env.get("TEST_REDIS_URL");
      if (!url) {
        throw new Error("no redis-server binary and no TEST_REDIS_URL: install redis-server");
      }
      return new RedisServer(Number(new URL(url).port || 6379), url);
    }
    const server = new RedisServer(freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return this.externalUrl ?? `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port (empty: it keeps nothing on disk). */
  async resume(): Promise<void> {
    if (this.externalUrl) return;
    this.process = spawnTracked("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
    });
    await waitUntil(
      async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
      },
      10_000,
      "redis-server",
    );
  }

  /** Freezes the server (SIGSTOP): the port accepts, nothing answers. */
  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  /** Unfreezes a paused server. */
  unpause(): void {
    this.process?.kill("SIGCONT");
  }

  /** Kills the server (SIGKILL); it comes back empty on {@link resume}. */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.process.kill("SIGKILL");
    await this.process.status;
    this.process = undefined;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    if (!this.process) return;
    this.unpause();
    this.process.kill("SIGTERM");
    await this.process.status;
    this.process = undefined;
  }
}
