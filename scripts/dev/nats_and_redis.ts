/**
 * The NATS and Redis servers `deno task start` runs when none is given or running, and the
 * installation of Debian's nats-server when it is missing (as root only).
 *
 * @module
 */
import { findProgram, portAnswers, run } from "./machine.ts";
import { DependencyError, ServerProcess, waitUntilReady } from "./server_process.ts";

/**
 * Installs Debian's nats-server with apt-get (updating the package lists once if apt cannot find
 * it); returns the program's path.
 *
 * @example
 * ```ts
 * const program = await installDebianPackage("nats-server", "nats-server");
 * ```
 */
export async function installDebianPackage(pkg: string, program: string): Promise<string> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = ["install", "-y", "-q", "--no-install-recommends", pkg];
  let result = await run("apt-get", install, env);
  if (!result.success) {
    await run("apt-get", ["update", "-q"], env);
    result = await run("apt-get", install, env);
  }
  const path = findProgram(program);
  if (!result.success || !path) {
    throw new DependencyError(
      `apt-get install ${pkg} failed:\n${result.output.split("\n").slice(-8).join("\n")}`,
    );
  }
  return path;
}

/** A running server of ours and how it describes itself. */
export interface StartedServer {
  server: ServerProcess;
  url: string;
  version: string;
}

/**
 * Starts nats-server with JetStream on 127.0.0.1:`port`, its streams stored under `storeDir`.
 *
 * @example
 * ```ts
 * const nats = await startNats("/usr/sbin/nats-server", ".data/nats", 4222);
 * ```
 */
export async function startNats(
  program: string,
  storeDir: string,
  port: number,
): Promise<StartedServer> {
  await Deno.mkdir(storeDir, { recursive: true });
  const version = (await run(program, ["--version"])).output.replace(/^nats-server:\s*/, "");
  const server = ServerProcess.spawn({
    label: "nats-server",
    program,
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir],
    logFile: `${storeDir}/nats-server.log`,
  });
  await waitUntilReady(server, () => portAnswers(port), 20_000);
  return { server, url: `nats://127.0.0.1:${port}`, version };
}

/**
 * Starts redis-server on 127.0.0.1:`port` as a pure cache (nothing saved to disk).
 *
 * @example
 * ```ts
 * const redis = await startRedis("/usr/bin/redis-server", ".data/redis-server.log", 6379);
 * ```
 */
export async function startRedis(
  program: string,
  logFile: string,
  port: number,
): Promise<StartedServer> {
  const version = /v=(\S+)/.exec((await run(program, ["--version"])).output)?.[1] ?? "";
  const server = ServerProcess.spawn({
    label: "redis-server",
    program,
    args: [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
    ],
    logFile,
  });
  await waitUntilReady(server, () => portAnswers(port), 20_000);
  return { server, url: `redis://127.0.0.1:${port}`, version };
}
