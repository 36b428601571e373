/**
 * Docker Compose against the smoke test's engine: v2 (`docker compose`) when the CLI has it,
 * else v1 (Debian's `docker-compose` 1.29), so compose.yaml is proven with what the machine has.
 *
 * @module
 */
import { eventually, must, run, type RunResult, SmokeError, tail } from "./command.ts";
import type { Engine } from "./engine.ts";

/** One container of the project, as `docker ps` shows it. */
export interface ContainerState {
  id: string;
  service: string;
  /** "Up 3 seconds (healthy)", "Exited (1) 2 seconds ago", ... */
  status: string;
}

/**
 * The project's state: every container up, and healthy where it has a healthcheck?
 *
 * @example
 * ```ts
 * settled([{ id: "a", service: "nats", status: "Up 5 seconds (healthy)" }]); // { ready: true, waiting: [] }
 * ```
 */
export function settled(containers: ContainerState[]): { ready: boolean; waiting: string[] } {
  const waiting = containers.filter((c) =>
    !c.status.startsWith("Up") || /\((health: starting|unhealthy)\)/.test(c.status)
  ).map((c) => `${c.service}: ${c.status}`);
  return { ready: containers.length > 0 && waiting.length === 0, waiting };
}

/**
 * Compose for one project.
 *
 * @example
 * ```ts
 * const compose = await Compose.detect(engine, { project: "fp-smoke", dir: repoRoot, env: {} });
 * await compose.run(["up", "-d"]);
 * ```
 */
export class Compose {
  private constructor(
    readonly engine: Engine,
    readonly command: string[],
    readonly version: string,
    readonly project: string,
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Finds Compose v2 or v1. */
  static async detect(
    engine: Engine,
    options: { project: string; dir: string; env: Record<string, string> },
  ): Promise<Compose> {
    const candidates = [[engine.dockerCli, "compose"], ["docker-compose"]];
    for (const command of candidates) {
      const version = await run(command[0], [...command.slice(1), "version", "--short"], {
        env: engine.env,
      }).catch(() => undefined);
      if (version?.code === 0) {
        return new Compose(
          engine,
          command,
          version.stdout.trim(),
          options.project,
          options.dir,
          options.env,
        );
      }
    }
    throw new SmokeError("neither `docker compose` nor `docker-compose` works");
  }

  /** "docker-compose 1.29.2" or "docker compose 2.x". */
  describe(): string {
    return `${this.command.join(" ")} ${this.version}`;
  }

  /** Runs a Compose command in the repository with the project's settings. */
  run(args: string[], options: { timeoutMs?: number; echo?: boolean } = {}): Promise<string> {
    return must(this.command[0], [...this.command.slice(1), ...args], {
      cwd: this.dir,
      env: { ...this.engine.env, COMPOSE_PROJECT_NAME: this.project, ...this.env },
      ...options,
    });
  }

  /** Runs a Compose command and returns what it did, whatever its exit code. */
  attempt(args: string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(this.command[0], [...this.command.slice(1), ...args], {
      cwd: this.dir,
      env: { ...this.engine.env, COMPOSE_PROJECT_NAME: this.project, ...this.env },
      ...options,
    });
  }

  /** The project's containers (all, or one service's). */
  async containers(service?: string): Promise<ContainerState[]> {
    const filters = ["--filter", `label=com.docker.compose.project=${this.project}`];
    if (service) filters.push("--filter", `label=com.docker.compose.service=${service}`);
    const out = await this.engine.docker([
      "ps",
      "-a",
      ...filters,
      "--format",
      '{{.ID}}\t{{.Label "com.docker.compose.service"}}\t{{.Status}}',
    ]);
    return out.trim().split("\n").filter(Boolean).map((line) => {
      const [id, svc, status] = line.split("\t");
      return { id, service: svc, status };
    }).filter((c) => c.service !== "ops");
  }

  /** Waits until every container is up and healthy; on timeout, shows the laggards' logs. */
  async waitHealthy(timeoutMs: number, service?: string): Promise<ContainerState[]> {
    return await eventually(
      async () => {
        const containers = await this.containers(service);
        return settled(containers).ready ? containers : undefined;
      },
      timeoutMs,
      async () => {
        const containers = await this.containers(service);
        const { waiting } = settled(containers);
        const logs = await Promise.all(
          containers.filter((c) => waiting.some((w) => w.startsWith(`${c.service}:`))).slice(0, 3)
            .map(async (c) => {
              const out = await run(this.engine.dockerCli, ["logs", "--tail", "15", c.id], {
                env: this.engine.env,
              });
              return `  ${c.service} (${c.id}):\n${tail(out.stdout + out.stderr, 15)}`;
            }),
        );
        return `every container healthy; waiting for:\n  ${waiting.join("\n  ")}\n${
          logs.join("\n")
        }`;
      },
      2000,
    );
  }
}
