/**
 * A Docker engine of the smoke test's own: Debian's dockerd started inside the private network
 * namespace, with its own data root, exec root and socket, so it shares nothing with any engine
 * the machine may run. The docker CLI and Compose reach it through DOCKER_HOST.
 *
 * `ip netns exec` would mount a fresh /sys for the namespace and with it hide the machine's cgroup
 * mounts (dockerd then fails: "Devices cgroup isn't mounted"); so the engine is started with
 * `nsenter --net` in a mount namespace of its own, where a fresh /sys gets the cgroup tree bound
 * back. Its overlay mounts live in that mount namespace and vanish with it.
 *
 * @module
 */
import { eventually, must, run, SmokeError, tail } from "./command.ts";
import type { PrivateNetwork } from "./network.ts";

/** Where the engine keeps its state. */
export interface EngineDirs {
  /** Images, containers, volumes (`--data-root`), on disk. */
  dataRoot: string;
  /** Runtime state and sockets (`--exec-root`): a short path (socket paths are limited). */
  execRoot: string;
}

/**
 * A running engine.
 *
 * @example
 * ```ts
 * const engine = await Engine.start(net, { dataRoot: "/var/tmp/x/docker", execRoot: "/run/x" });
 * await engine.docker(["version"]);
 * await engine.stop();
 * ```
 */
export class Engine {
  private constructor(
    readonly dirs: EngineDirs,
    readonly dockerCli: string,
    private readonly child: Deno.ChildProcess,
    private readonly logFile: string,
  ) {}

  /** `unix://` address of the engine's socket. */
  get host(): string {
    return `unix://${this.dirs.execRoot}/docker.sock`;
  }

  /** The environment for docker and Compose: DOCKER_HOST and nothing else changed. */
  get env(): Record<string, string> {
    return { DOCKER_HOST: this.host };
  }

  /** Starts dockerd in `net` and waits until it answers. */
  static async start(net: PrivateNetwork, dirs: EngineDirs): Promise<Engine> {
    await stopLeftoverEngine(dirs);
    await Deno.mkdir(dirs.dataRoot, { recursive: true });
    await Deno.mkdir(dirs.execRoot, { recursive: true });
    const logFile = `${dirs.execRoot}/dockerd.log`;
    const cgroups = `${dirs.execRoot}/host-cgroup`;
    await Deno.mkdir(cgroups, { recursive: true });
    // In the new mount namespace: keep the machine's cgroup tree, mount the namespace's own
    // /sys, bind the cgroup tree back into it, then become dockerd.
    const script = [
      "set -e",
      'mount --rbind /sys/fs/cgroup "$CGROUPS"',
      "mount -t sysfs sysfs /sys",
      'mount --rbind "$CGROUPS" /sys/fs/cgroup',
      'umount -l "$CGROUPS"',
      'exec dockerd --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" ' +
      '--pidfile "$EXEC_ROOT/dockerd.pid" -H "unix://$EXEC_ROOT/docker.sock" ' +
      '>>"$LOG" 2>&1',
    ].join("\n");
    const child = new Deno.Command("nsenter", {
      args: [
        `--net=${net.path}`,
        "--",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
      ],
      env: {
        CGROUPS: cgroups,
        DATA_ROOT: dirs.dataRoot,
        EXEC_ROOT: dirs.execRoot,
        LOG: logFile,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const engine = new Engine(dirs, dockerCli(), child, logFile);
    let exited = false;
    child.status.then(() => exited = true);
    await eventually(
      async () => {
        if (exited) throw new SmokeError("dockerd exited");
        const version = await run(
          engine.dockerCli,
          ["version", "--format", "{{.Server.Version}}"],
          {
            env: engine.env,
            timeoutMs: 10_000,
          },
        );
        return version.code === 0 ? version.stdout.trim() : undefined;
      },
      60_000,
      async () => `dockerd to answer; its log:\n${tail(await engine.log(), 20)}`,
      500,
    ).catch(async (error) => {
      await engine.stop().catch(() => {});
      throw error;
    });
    return engine;
  }

  /** Runs the docker CLI against this engine; throws unless it exits 0. */
  docker(args: string[], options: { timeoutMs?: number; echo?: boolean } = {}): Promise<string> {
    return must(this.dockerCli, args, { env: this.env, ...options });
  }

  /** The engine's log so far. */
  async log(): Promise<string> {
    return await Deno.readTextFile(this.logFile).catch(() => "");
  }

  /** Stops dockerd (which stops its containers) and waits for it; SIGKILL after 60 s. */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 60_000);
    await this.child.status;
    clearTimeout(timer);
    await this.child.stderr.cancel().catch(() => {});
  }
}

/** Debian's docker CLI (same release as its dockerd) before any other on PATH. */
function dockerCli(): string {
  try {
    Deno.statSync("/usr/bin/docker");
    return "/usr/bin/docker";
  } catch {
    return "docker";
  }
}

/**
 * Stops, gracefully (so it stops its containers), an engine an interrupted run left behind (found
 * by its pid file).
 *
 * @example
 * ```ts
 * await stopLeftoverEngine({ dataRoot, execRoot });
 * ```
 */
export async function stopLeftoverEngine(dirs: EngineDirs): Promise<void> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(`${dirs.execRoot}/dockerd.pid`)).trim());
  } catch {
    return;
  }
  if (!(pid > 0) || (await run("kill", ["-0", String(pid)])).code !== 0) return;
  console.log(`    stopping the engine an earlier run left (pid ${pid})`);
  Deno.kill(pid, "SIGTERM");
  await eventually(
    async () => (await run("kill", ["-0", String(pid)])).code !== 0 ? true : undefined,
    60_000,
    () => `the leftover dockerd ${pid} to stop`,
  );
}
