/**
 * The faults the chaos suite injects, in order: each dependency stopped, killed, frozen and
 * restarted (and, with a NATS cluster, the stream leader killed), then each service's first
 * replica killed, stopped gracefully and frozen.
 *
 * @module
 */
import { NatsCluster, type NatsServer } from "../harness/nats_server.ts";
import type { ChaosPlatform, ServiceName } from "./platform.ts";

/** One fault: how to cause it and how to end it. */
export interface Fault {
  name: string;
  /** The dependency whose `/health` check must say "unhealthy" while the fault lasts. */
  check?: "database" | "nats" | "redis";
  /** The services whose replicas carry that check. */
  checkedBy?: ServiceName[];
  inject(platform: ChaosPlatform): Promise<void>;
  /** Ends the fault; resolves once the dependency or replica is back. */
  restore(platform: ChaosPlatform): Promise<void>;
  /** The exit code a replica stopped on purpose must end with (graceful stop: 0). */
  expectExitCode?: number;
  /** Set by inject when it stopped a replica: its exit code. */
  exitCode?: number;
}

function natsNodes(platform: ChaosPlatform): NatsServer[] {
  return platform.nats instanceof NatsCluster ? platform.nats.nodes : [platform.nats];
}

async function resumeNats(platform: ChaosPlatform): Promise<void> {
  if (platform.nats instanceof NatsCluster) await platform.nats.resumeAll();
  else await platform.nats.resume();
}

const DATABASE = {
  check: "database" as const,
  checkedBy: ["users", "tasks", "orchestrator"] as ServiceName[],
};
const NATS = { check: "nats" as const, checkedBy: ["tasks", "orchestrator"] as ServiceName[] };
const REDIS = { check: "redis" as const, checkedBy: ["users"] as ServiceName[] };

/**
 * The dependency faults.
 *
 * @example
 * ```ts
 * const faults = [...dependencyFaults(true), ...serviceFaults()];
 * ```
 */
export function dependencyFaults(cluster: boolean): Fault[] {
  const faults: Fault[] = [
    {
      name: "postgres stop -m fast",
      ...DATABASE,
      inject: (p) => p.pg.stop("fast"),
      restore: (p) => p.pg.resume(),
    },
    {
      name: "postgres stop -m immediate",
      ...DATABASE,
      inject: (p) => p.pg.stop("immediate"),
      restore: (p) => p.pg.resume(),
    },
    {
      name: "postgres kill -9 (all)",
      ...DATABASE,
      inject: (p) => p.pg.kill(),
      restore: (p) => p.pg.resume(),
    },
    {
      name: "postgres freeze",
      ...DATABASE,
      inject: (p) => Promise.resolve(p.pg.pause()),
      restore: (p) => Promise.resolve(p.pg.unpause()),
    },
    {
      name: cluster ? "nats restart (all nodes)" : "nats restart",
      ...NATS,
      inject: async (p) => void await Promise.all(natsNodes(p).map((n) => n.stop())),
      restore: resumeNats,
    },
    {
      name: cluster ? "nats kill -9 (all nodes)" : "nats kill -9",
      ...NATS,
      inject: async (p) => void await Promise.all(natsNodes(p).map((n) => n.kill())),
      restore: resumeNats,
    },
    {
      name: cluster ? "nats freeze (all nodes)" : "nats freeze",
      ...NATS,
      inject: (p) => Promise.resolve(natsNodes(p).forEach((n) => n.pause())),
      restore: (p) => Promise.resolve(natsNodes(p).forEach((n) => n.unpause())),
    },
  ];
  if (cluster) {
    let killed: NatsServer | undefined;
    faults.push({
      name: "nats kill -9 TASKS stream leader",
      inject: async (p) => {
        const cluster = p.nats as NatsCluster;
        const leader = await cluster.streamLeader("TASKS");
        if (!leader) throw new Error("no leader of TASKS reported");
        killed = cluster.node(leader);
        await killed.kill();
      },
      restore: async (p) => {
        await killed?.resume();
        await (p.nats as NatsCluster).waitForMetaLeader();
      },
    });
  }
  faults.push(
    {
      name: "redis restart",
      ...REDIS,
      inject: (p) => p.redis.stop(),
      restore: (p) => p.redis.resume(),
    },
    {
      name: "redis kill -9",
      ...REDIS,
      inject: (p) => p.redis.kill(),
      restore: (p) => p.redis.resume(),
    },
    {
      name: "redis freeze",
      ...REDIS,
      inject: (p) => Promise.resolve(p.redis.pause()),
      restore: (p) => Promise.resolve(p.redis.unpause()),
    },
  );
  return faults;
}

/**
 * The service faults, on each service's first replica.
 *
 * @example
 * ```ts
 * for (const fault of serviceFaults()) console.log(fault.name); // "users-1 kill -9", ...
 * ```
 */
export function serviceFaults(): Fault[] {
  const faults: Fault[] = [];
  for (const service of ["users", "tasks", "orchestrator"] as const) {
    const name = `${service}-1`;
    faults.push(
      {
        name: `${name} kill -9`,
        inject: async (p) => void await p.replica(name).stop("SIGKILL"),
        restore: (p) => p.replica(name).start(),
      },
      {
        name: `${name} SIGTERM + start`,
        expectExitCode: 0,
        async inject(p) {
          this.exitCode = (await p.replica(name).stop("SIGTERM"))?.code;
        },
        restore: (p) => p.replica(name).start(),
      },
      {
        name: `${name} freeze`,
        inject: (p) => Promise.resolve(p.replica(name).freeze()),
        restore: (p) => Promise.resolve(p.replica(name).unfreeze()),
      },
    );
  }
  return faults;
}
