/**
 * A throwaway NATS server with JetStream on free ports (client and monitoring), with its own
 * storage directory, so tests can stop and restart it and find their streams again; and a
 * three-node JetStream cluster of them, for stream replicas and leader failover.
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

/** How a node joins a cluster. */
export interface ClusterMembership {
  /** The cluster's name (`--cluster_name`). */
  name: string;
  /** This node's route port. */
  routePort: number;
  /** Every node's route port (this one included; it is skipped). */
  routePorts: number[];
}

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
    readonly serverName = `fp-nats-${port}`,
    private readonly cluster?: ClusterMembership,
  ) {}

  /** Starts a fresh instance (or wraps TEST_NATS_URL when nats-server is not installed). */
  static async start(): Promise<NatsServer> {
    if (!hasCommand("nats-server")) {
      const url = Deno.env.get("TEST_NATS_URL");
      if (!url) throw new Error("no nats-server binary and no TEST_NATS_URL: install nats-server");
      return new NatsServer(Number(new URL(url).port || 4222), 0, undefined, url);
    }
    const server = new NatsServer(freePort(), freePort(), await trackedTempDir("fp-nats-"));
    await server.resume();
    return server;
  }

  /** A node for {@link NatsCluster} (not started). */
  static async clusterNode(name: string, membership: ClusterMembership): Promise<NatsServer> {
    return new NatsServer(
      freePort(),
      freePort(),
      await trackedTempDir(`fp-nats-${name}-`),
      undefined,
      name,
      membership,
    );
  }

  get url(): string {
    return this.externalUrl ?? `nats://127.0.0.1:${this.port}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.monitorPort}`;
  }

  /** True while the server process runs (frozen included). */
  get running(): boolean {
    return this.process !== undefined;
  }

  /** Starts the server again with the same ports and storage. */
  async resume(): Promise<void> {
    if (!this.storeDir || this.process) return;
    this.spawn();
    await this.waitHealthy();
  }

  /** Spawns the process without waiting for it to be healthy (a cluster starts its nodes together). */
  spawn(): void {
    if (!this.storeDir || this.process) return;
    const args = [
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      String(this.port),
      "-m",
      String(this.monitorPort),
      "-sd",
      this.storeDir,
      "-n",
      this.serverName,
    ];
    if (this.cluster) {
      const routes = this.cluster.routePorts.filter((p) => p !== this.cluster!.routePort)
        .map((p) => `nats://127.0.0.1:${p}`).join(",");
      args.push(
        "--cluster_name",
        this.cluster.name,
        "--cluster",
        `nats://127.0.0.1:${this.cluster.routePort}`,
        "--routes",
        routes,
      );
    }
    this.process = spawnTracked("nats-server", { args });
  }

  /** Resolves once the monitoring endpoint says JetStream is healthy. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => {
        const res = await fetch(`${this.monitorUrl}/healthz?js-enabled-only=true`);
        await res.body?.cancel();
        if (!res.ok) throw new Error(`healthz ${res.status}`);
      },
      timeoutMs,
      `nats-server ${this.serverName}`,
    );
  }

  /** Stops the server (SIGTERM: it closes connections and flushes its storage). */
  async stop(): Promise<void> {
    if (!this.process) return;
    this.unpause();
    this.process.kill("SIGTERM");
    await this.process.status;
    this.process = undefined;
  }

  /** Kills the server (SIGKILL): no goodbye to clients, no flush. */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.process.kill("SIGKILL");
    await this.process.status;
    this.process = undefined;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  /** Unfreezes a paused server. */
  unpause(): void {
    this.process?.kill("SIGCONT");
  }

  /** Stops the server and removes its storage. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.storeDir) await Deno.remove(this.storeDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Three (or `size`) nats-server nodes routed into one JetStream cluster, each with its own
 * storage. Clients get every node in {@link url}, as `NATS_URL` takes a comma-separated list.
 *
 * @example
 * ```ts
 * const cluster = await NatsCluster.start();
 * const leader = await cluster.streamLeader("TASKS"); // a node name, such as "n2"
 * await cluster.node(leader!).kill();
 * ```
 */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  /** Starts the nodes and waits until JetStream is healthy on each (a meta leader exists). */
  static async start(size = 3): Promise<NatsCluster> {
    if (!hasCommand("nats-server")) throw new Error("no nats-server binary: install nats-server");
    const routePorts = Array.from({ length: size }, () => freePort());
    const nodes: NatsServer[] = [];
    for (let i = 0; i < size; i++) {
      nodes.push(
        await NatsServer.clusterNode(`n${i + 1}`, {
          name: "fp-test",
          routePort: routePorts[i],
          routePorts,
        }),
      );
    }
    const cluster = new NatsCluster(nodes);
    await cluster.resumeAll();
    return cluster;
  }

  /** Every node's client URL, comma-separated. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(",");
  }

  /** The node named `name` ("n1", ...). */
  node(name: string): NatsServer {
    const node = this.nodes.find((n) => n.serverName === name);
    if (!node) throw new Error(`no NATS node named ${name}`);
    return node;
  }

  /**
   * The name of the node that leads `stream` now, asked of the monitoring endpoint of each
   * running node (`/jsz?streams=true`), or undefined when no node reports a leader.
   */
  async streamLeader(stream: string, account = "$G"): Promise<string | undefined> {
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        const res = await fetch(`${node.monitorUrl}/jsz?accounts=true&streams=true`, {
          signal: AbortSignal.timeout(1000),
        });
        const jsz = await res.json() as {
          account_details?: Array<{
            name: string;
            stream_detail?: Array<{ name: string; cluster?: { leader?: string } }>;
          }>;
        };
        for (const acc of jsz.account_details ?? []) {
          if (acc.name !== account) continue;
          const leader = acc.stream_detail?.find((s) => s.name === stream)?.cluster?.leader;
          if (leader) return leader;
        }
      } catch { /* node not answering: ask the next */ }
    }
    return undefined;
  }

  /** Starts every stopped node and waits until all are healthy and agree on a meta leader. */
  async resumeAll(): Promise<void> {
    for (const node of this.nodes) node.spawn();
    await Promise.all(this.nodes.map((n) => n.waitHealthy(60_000)));
    await this.waitForMetaLeader();
  }

  /** Resolves once every running node names the same JetStream meta leader. */
  async waitForMetaLeader(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      async () => {
        const leaders = new Set<string>();
        for (const node of this.nodes.filter((n) => n.running)) {
          const res = await fetch(`${node.monitorUrl}/jsz`, { signal: AbortSignal.timeout(1000) });
          const jsz = await res.json() as { meta_cluster?: { leader?: string } };
          if (!jsz.meta_cluster?.leader) throw new Error(`${node.serverName}: no meta leader yet`);
          leaders.add(jsz.meta_cluster.leader);
        }
        if (leaders.size !== 1) throw new Error(`nodes disagree: ${[...leaders]}`);
      },
      timeoutMs,
      "a JetStream meta leader",
    );
  }

  /** Stops every node. */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Stops every node and removes their storage. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
