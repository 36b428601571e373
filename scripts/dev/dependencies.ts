/**
 * PostgreSQL, NATS and Redis for `deno task start` on any machine with Node.js and npm: each one
 * from its URL in the environment, else the server answering on its default port, else one this
 * module starts (the embedded PostgreSQL from npm, nats-server, redis-server) with its data under
 * the data folder (`.data/` by default, kept across restarts). One log line per dependency says
 * which it uses. Redis is optional: without it the User Service runs degraded.
 *
 * @module
 */
import { redactUrl } from "@platform/lib/config";
import {
  EMBEDDED_MAJOR,
  embeddedPostgresDir,
  installEmbeddedPostgres,
  startEmbeddedPostgres,
} from "./embedded_postgres.ts";
import { findProgram, portAnswers } from "./machine.ts";
import { installDebianPackage, startNats, startRedis } from "./nats_and_redis.ts";
import { DEPENDENCIES, type Dependency, type Findings, type Plan, planDependency } from "./plan.ts";
import { DependencyError, type ServerProcess } from "./server_process.ts";

/** Where things are. */
export interface DependencyOptions {
  /** The repository (tools/ holds the embedded PostgreSQL). */
  repoRoot: string;
  /** The data folder (PostgreSQL's cluster, NATS's streams, logs). */
  dataDir: string;
  /** The environment to read DATABASE_URL, NATS_URL and REDIS_URL from. */
  env: Record<string, string | undefined>;
  /** Where the one line per dependency goes. */
  log: (line: string) => void;
}

/** The dependencies in place. */
export interface ProvidedDependencies {
  /** Variables for the services: the URLs of the servers started here. */
  env: Record<string, string>;
  /** The servers started here, in the order they started. */
  servers: ServerProcess[];
  /** Stops the servers started here (and only those), in reverse order of start. */
  stop(): Promise<void>;
}

/**
 * Finds or starts the three dependencies. On failure, stops whatever it started and throws a
 * {@link DependencyError} whose message says what to do.
 *
 * @example
 * ```ts
 * const deps = await provideDependencies({ repoRoot, dataDir: `${repoRoot}/.data`, env: Deno.env.toObject(), log: console.log });
 * // ... run the services with deps.env ...
 * await deps.stop();
 * ```
 */
export async function provideDependencies(
  options: DependencyOptions,
): Promise<ProvidedDependencies> {
  const names: Dependency[] = ["postgres", "nats", "redis"];
  const plans = await Promise.all(
    names.map(async (name) => planDependency(name, await find(name))),
  );
  for (const [i, plan] of plans.entries()) {
    if (plan.kind === "fail") throw new DependencyError(`${names[i]}: ${plan.message}`);
  }
  const started: ServerProcess[] = [];
  const env: Record<string, string> = {};
  const results = await Promise.allSettled(
    names.map((name, i) => provide(name, plans[i], options, started, env)),
  );
  const stop = async () => {
    for (const server of [...started].reverse()) await server.stop();
  };
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return { env, servers: started, stop };

  async function find(name: Dependency): Promise<Findings> {
    const { port, variable } = DEPENDENCIES[name];
    const envUrl = options.env[variable] || undefined;
    const program = name === "postgres"
      ? embeddedPostgresDir(options.repoRoot) ?? canInstallEmbedded()
      : findProgram(name === "nats" ? "nats-server" : "redis-server");
    return {
      envUrl,
      defaultPortAnswers: envUrl ? false : await portAnswers(port),
      program,
      root: Deno.uid() === 0,
      apt: findProgram("apt-get") !== undefined,
    };
  }
}

/**
 * For `deno task start`: provides the dependencies with the process's environment, data in
 * DEV_DATA_DIR or `<repo>/.data`, and log lines prefixed like the services' (`start       | `).
 * Exits 1 with the message when one cannot be provided; a Ctrl-C meanwhile stops what started
 * and exits 130.
 *
 * @example
 * ```ts
 * const deps = await startDependencies(new URL("../", import.meta.url).pathname);
 * ```
 */
export async function startDependencies(repoRoot: string): Promise<ProvidedDependencies> {
  let interrupted = false;
  const interrupt = () => interrupted = true;
  Deno.addSignalListener("SIGINT", interrupt);
  Deno.addSignalListener("SIGTERM", interrupt);
  const root = repoRoot.replace(/\/+$/, "");
  try {
    const deps = await provideDependencies({
      repoRoot: root,
      dataDir: Deno.env.get("DEV_DATA_DIR") || `${root}/.data`,
      env: Deno.env.toObject(),
      log: (line) => console.log(`${"start".padEnd(12)}| ${line}`),
    });
    if (interrupted) {
      await deps.stop();
      Deno.exit(130);
    }
    return deps;
  } catch (error) {
    console.error(error instanceof DependencyError ? `cannot start: ${error.message}` : error);
    Deno.exit(1);
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
    Deno.removeSignalListener("SIGTERM", interrupt);
  }
}

/** npm installs the embedded PostgreSQL on linux-x64 (a checkout whose tools/ predate it). */
function canInstallEmbedded(): string | undefined {
  return Deno.build.os === "linux" && Deno.build.arch === "x86_64" && findProgram("npm")
    ? "npm"
    : undefined;
}

async function provide(
  name: Dependency,
  plan: Plan,
  options: DependencyOptions,
  started: ServerProcess[],
  env: Record<string, string>,
): Promise<void> {
  const { port, variable } = DEPENDENCIES[name];
  const { log, dataDir } = options;
  const shown = (path: string) => displayPath(path);
  switch (plan.kind) {
    case "environment":
      log(`${name}: ${variable}=${redactUrl(plan.url)} (from the environment)`);
      return;
    case "running":
      log(`${name}: the server already answering on 127.0.0.1:${port}`);
      return;
    case "without":
      log(
        `${name}: none (${plan.reason}): the User Service runs degraded, reading profiles from ` +
          "PostgreSQL without a cache. For the cache: sudo apt-get install redis-server",
      );
      return;
    case "fail":
      throw new DependencyError(`${name}: ${plan.message}`);
    case "install":
    case "start":
      break;
  }
  if (name === "postgres") {
    let nativeDir = plan.kind === "start" ? embeddedPostgresDir(options.repoRoot) : undefined;
    nativeDir ??= await installEmbeddedPostgres(options.repoRoot, log);
    if (!nativeDir) {
      throw new DependencyError("postgres: the embedded PostgreSQL is missing from tools/");
    }
    const pg = await startEmbeddedPostgres(nativeDir, `${dataDir}/postgres`, port);
    started.push(pg.server);
    env[variable] = pg.url;
    log(
      `postgres: embedded PostgreSQL ${pg.version} (npm, major ${EMBEDDED_MAJOR}) started on ` +
        `127.0.0.1:${port}, data in ${shown(pg.dataDir)}, log ${shown(pg.logFile)}`,
    );
  } else if (name === "nats") {
    let program = plan.kind === "start" ? plan.program : undefined;
    if (!program) {
      log("nats: nats-server is not installed; installing Debian's (apt-get install nats-server)");
      program = await installDebianPackage("nats-server", "nats-server");
      // A package may start its own service on the default port: then use that one.
      if (await portAnswers(port)) {
        log(`nats: the nats-server the package started on 127.0.0.1:${port}`);
        return;
      }
    }
    const nats = await startNats(program, `${dataDir}/nats`, port);
    started.push(nats.server);
    env[variable] = nats.url;
    log(
      `nats: nats-server ${nats.version} started on 127.0.0.1:${port} with JetStream, ` +
        `data in ${shown(`${dataDir}/nats`)}`,
    );
  } else {
    if (plan.kind !== "start") return;
    await Deno.mkdir(dataDir, { recursive: true });
    const redis = await startRedis(plan.program, `${dataDir}/redis-server.log`, port);
    started.push(redis.server);
    env[variable] = redis.url;
    log(
      `redis: redis-server ${redis.version} started on 127.0.0.1:${port} (a cache: saves nothing)`,
    );
  }
}

function displayPath(path: string): string {
  const cwd = Deno.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
