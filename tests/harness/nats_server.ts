/**
 * A throwaway NATS server with JetStream on free ports (client and monitoring), with its own
 * storage directory, so tests can stop and restart it and find their streams again.
 *
 * @module
 */
import {
  freePort,
  hasCommand,
  spawnTracked,
  type TrackedProcess,
  trackedTempDir,
  waitUntil,
} from "./processes.ts";

/**
 * A NATS instance owned by the test.
 *
 * @example
 * ```ts
 * const nats = await NatsServer.start();
 * nats.url; // "nats://127.0.0.1:41234"
 * ```
 */
export class NatsServer {
  private process?: TrackedProcess;

  private constructor(
    readonly port: number,
    readonly monitorPort: number,
    readonly storeDir: string | undefined,
    private readonly externalUrl?: string,
  ) {}

  /** Starts a fresh instance (or wraps TEST_NATS_URL when nats-server is not installed). */
  static async start(): Promise<NatsServer> {
    if (!hasCommand("nats-server")) {
      const url = Deno.env.get("TEST_NATS_URL");
      if (!url) throw new Error("no nats-server binary and no TEST_NATS_URL: install nats-server");
      return new NatsServer(Number(new URL(url).port || 4222), 0, undefined, url);
    }
    const server = new NatsServer(
      freePort(),
      freePort(),
      await trackedTempDir("fp-nats-"),
    );
    await server.resume();
    return server;
  }

  get url(): string {
    return this.externalUrl ?? `nats://127.0.0.1:${this.port}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.monitorPort}`;
  }

  /** Starts the server again with the same ports and storage. */
  async resume(): Promise<void> {
    if (!this.storeDir) return;
    this.process = spawnTracked("nats-server", {
      args: [
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        String(this.port),
        "-m",
        String(this.monitorPort),
        "-sd",
        this.storeDir,
      ],
    });
    await waitUntil(
      async () => {
        const res = await fetch(`${this.monitorUrl}/healthz?js-enabled-only=true`);
        await res.body?.cancel();
        if (!res.ok) throw new Error(`healthz ${res.status}`);
      },
      20_000,
      "nats-server",
    );
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    if (!this.process) return;
    this.process.kill("SIGTERM");
    await this.process.status;
    this.process = undefined;
  }

  /** Stops the server and removes its storage. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.storeDir) await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
  }
}
