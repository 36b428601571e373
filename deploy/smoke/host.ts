/**
 * What the machine must have or get: root on Linux with cgroups, and Debian's container engine,
 * Compose, mmdebstrap and iptables, installed when missing (with no service started by the
 * packages: the engine runs only inside the smoke test's namespace).
 *
 * @module
 */
import { CannotRun, run, SmokeError } from "./command.ts";

/**
 * Throws {@link CannotRun} when this machine cannot run a container engine at all.
 *
 * @example
 * ```ts
 * await requireEngineCapableMachine();
 * ```
 */
export async function requireEngineCapableMachine(): Promise<void> {
  if (Deno.build.os !== "linux") {
    throw new CannotRun(`a container engine needs Linux, not ${Deno.build.os}`);
  }
  if (Deno.uid() !== 0) throw new CannotRun("needs root (network namespaces, dockerd)");
  const cgroups = await Deno.readTextFile("/proc/mounts").catch(() => "");
  if (!/ cgroup2? /.test(cgroups)) throw new CannotRun("no cgroup file system is mounted");
  for (const program of ["ip", "nsenter", "unshare"]) {
    if (!(await has(program))) throw new CannotRun(`${program} is missing (iproute2, util-linux)`);
  }
}

/** Commands the smoke test runs, and the Debian package of each. */
const NEEDED: Array<[string, string]> = [
  ["dockerd", "docker.io"],
  ["mmdebstrap", "mmdebstrap"],
  ["iptables", "iptables"],
];

/**
 * Installs what is missing with apt-get; returns the packages it installed.
 *
 * @example
 * ```ts
 * const installed = await installMissingTools(); // ["docker.io", "docker-compose", "mmdebstrap"]
 * ```
 */
export async function installMissingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const [program, pkg] of NEEDED) if (!(await has(program))) missing.push(pkg);
  const composeV2 =
    (await run("docker", ["compose", "version"]).catch(() => undefined))?.code === 0;
  if (!composeV2 && !(await has("docker-compose"))) missing.push("docker-compose");
  if (missing.length === 0) return [];
  if (!(await has("apt-get"))) {
    if (missing.includes("docker.io")) {
      throw new CannotRun(
        `no container engine and no apt-get to install one (${missing.join(", ")})`,
      );
    }
    throw new SmokeError(`missing ${missing.join(", ")} and no apt-get to install them`);
  }
  console.log(`    apt-get install ${missing.join(" ")}`);
  // Packages must not start their services: the engine runs only inside the namespace.
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !(await exists(policy));
  if (ownPolicy) await Deno.writeTextFile(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    const install = ["install", "-y", "-q", "--no-install-recommends", ...missing];
    let result = await run("apt-get", install, { env, timeoutMs: 600_000 });
    if (result.code !== 0) {
      await run("apt-get", ["update", "-q"], { env, timeoutMs: 300_000 });
      result = await run("apt-get", install, { env, timeoutMs: 600_000 });
    }
    if (result.code !== 0) {
      throw new SmokeError(
        `apt-get install ${missing.join(" ")} failed:\n${result.stderr.slice(-2000)}`,
      );
    }
  } finally {
    if (ownPolicy) await Deno.remove(policy).catch(() => {});
  }
  return missing;
}

async function has(program: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${program}`])).code === 0;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
