/**
 * `deno task deploy:smoke`: proves the container deployment by running it.
 *
 * Installs Debian's container engine, Compose and mmdebstrap when missing; starts the engine in
 * a private network namespace with its own data directory; provides the base images (pulled, or
 * built locally as stand-ins when no registry answers); builds the app image from
 * deploy/Dockerfile; brings compose.yaml up and waits for health; runs the business flow through
 * the edge over gRPC-web; scales the User Service to 3 and checks that every replica serves; runs
 * backup, a test restore, doctor and the security scan (`deno task scan`) in the ops container; stops everything and prints the time of
 * each step. Leaves nothing behind but the cached Debian root file system (`--no-cache`: not even
 * that) and the installed Debian packages.
 *
 * Exit codes: 0 passed, 1 failed, 77 skipped (this machine cannot run a container engine at all).
 *
 *   deno task deploy:smoke [--cache-dir DIR | --no-cache] [--keep-failed]
 *
 * @module
 */
import { baseImages, provideBaseImages } from "./base_images.ts";
import { CannotRun, SmokeError, tail } from "./command.ts";
import { Compose } from "./compose.ts";
import { Engine, type EngineDirs, stopLeftoverEngine } from "./engine.ts";
import { businessFlow, edgeUrls } from "./flow.ts";
import { installMissingTools, requireEngineCapableMachine } from "./host.ts";
import { PrivateNetwork, SMOKE_NETWORK } from "./network.ts";
import { judgeImageScan } from "./image_scan.ts";
import { scaleAndCheck } from "./replicas.ts";
import { StepClock } from "./timings.ts";

const repoRoot = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const args = Deno.args;
if (args.includes("--help") || args.includes("-h")) {
  console.log(
    "usage: deno task deploy:smoke [--cache-dir DIR | --no-cache] [--keep-failed]\n" +
      "  --cache-dir DIR  where the Debian root file system is kept between runs\n" +
      "                   (default: $XDG_CACHE_HOME or ~/.cache, /freelance-platform/deploy-smoke)\n" +
      "  --no-cache       build it every time and keep nothing\n" +
      "  --keep-failed    on failure, leave the engine running for a look (DOCKER_HOST printed)",
  );
  Deno.exit(0);
}
const cacheDir = args.includes("--no-cache") ? undefined : flag("--cache-dir") ??
  `${
    Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") || "/root"}/.cache`
  }/freelance-platform/deploy-smoke`;
const keepFailed = args.includes("--keep-failed");

const WORK_DIR = "/var/tmp/fp-deploy-smoke";
const dirs: EngineDirs = { dataRoot: `${WORK_DIR}/docker`, execRoot: "/run/fp-deploy-smoke" };
const PROJECT = "fp-smoke";

const clock = new StepClock();
let net: PrivateNetwork | undefined;
let engine: Engine | undefined;
let compose: Compose | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the engine and removing the namespace`);
    await cleanUp().catch((e) => console.error(`cleanup: ${e.message}`));
    console.log(`\ndeploy:smoke interrupted; step times:\n${clock.table()}`);
    Deno.exit(130);
  });
}

const lock = await takeLock();
let code = 0;
try {
  await clock.step("check the machine", requireEngineCapableMachine);
  await clock.step("install Debian's engine, Compose, mmdebstrap (if missing)", async () => {
    const installed = await installMissingTools();
    console.log(installed.length ? `    installed ${installed.join(", ")}` : "    all present");
  });
  await clock.step("start the engine in a private network namespace", async () => {
    // What an interrupted or --keep-failed run left: its engine, then its files (a run starts
    // from nothing, so no image of an earlier run is reused).
    await stopLeftoverEngine(dirs);
    await removeWorkDirs();
    net = await PrivateNetwork.create(SMOKE_NETWORK);
    engine = await Engine.start(net, dirs);
    compose = await Compose.detect(engine, {
      project: PROJECT,
      dir: repoRoot,
      env: {
        PUBLISH_ADDR: net.address,
        JWT_SECRETS: randomSecret(48),
        POSTGRES_PASSWORD: randomSecret(24),
      },
    });
    const version = (await engine.docker(["version", "--format", "{{.Server.Version}}"])).trim();
    console.log(
      `    dockerd ${version} in namespace ${net.spec.namespace}, data in ${dirs.dataRoot}`,
    );
    console.log(`    ${compose.describe()}; published ports on ${net.address}`);
  });
  await clock.step("base images: pull, or build stand-ins when no registry answers", async () => {
    const images = baseImages(
      await Deno.readTextFile(`${repoRoot}/compose.yaml`),
      await Deno.readTextFile(`${repoRoot}/deploy/Dockerfile`),
    );
    const report = await provideBaseImages(engine!, images, {
      repoRoot,
      workDir: WORK_DIR,
      cache: { dir: cacheDir, maxAgeDays: 7 },
    });
    if (report.pulled.length) console.log(`    pulled: ${report.pulled.join(", ")}`);
    if (report.builtLocally.length) {
      console.log(`    built locally (rootfs ${report.rootfs}): ${report.builtLocally.join(", ")}`);
    }
  });
  await clock.step("build the app images from deploy/Dockerfile", async () => {
    await compose!.run(["build"], { timeoutMs: 900_000 });
    const images = await engine!.docker([
      "images",
      "--filter",
      "reference=freelance-platform/*",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.Size}}",
    ]);
    console.log(tail(images));
  });
  await clock.step("compose up, wait until every container is healthy", async () => {
    await compose!.run(["up", "-d"], { timeoutMs: 600_000 });
    const containers = await compose!.waitHealthy(300_000);
    console.log(
      `    ${containers.length} containers up: ${
        containers.map((c) => c.service).sort().join(", ")
      }`,
    );
  });
  const urls = edgeUrls(net!.address);
  const flow = await clock.step("business flow through the edge (gRPC-web)", async () => {
    for (const [name, url] of Object.entries(urls)) {
      const res = await fetch(`${url}/health`);
      const body = await res.json();
      if (res.status !== 200) {
        throw new SmokeError(`${name} /health: ${res.status} ${JSON.stringify(body)}`);
      }
      console.log(`    ${name} /health through the edge: ${res.status} ${body.status}`);
    }
    const web = await fetch(`http://${net!.address}:8080/`);
    const page = await web.text();
    if (web.status !== 200 || !page.includes("<html")) {
      throw new SmokeError(`the web app through the edge: ${web.status} ${page.slice(0, 200)}`);
    }
    console.log(
      `    web app through the edge (:8080): ${web.status}, ${page.length} bytes of HTML`,
    );
    return await businessFlow(urls, console.log);
  });
  await clock.step("scale the User Service to 3; every replica serves", async () => {
    await scaleAndCheck(
      compose!,
      urls.users,
      flow.developerToken,
      flow.developerId,
      3,
      console.log,
    );
  });
  await clock.step("backup and test restore in the ops container", async () => {
    const out = await compose!.run(["run", "--rm", "ops", "deno", "task", "backup"], {
      timeoutMs: 300_000,
    });
    console.log(tail(out, 6));
    const name = /Backup complete: (\S+)/.exec(out)?.[1];
    if (!name) throw new SmokeError(`the backup printed no name:\n${tail(out)}`);
    const verify = await compose!.run(
      ["run", "--rm", "ops", "deno", "task", "restore", "--verify", name],
      { timeoutMs: 300_000 },
    );
    console.log(tail(verify, 3));
  });
  await clock.step("doctor in the ops container", async () => {
    const out = await compose!.run(["run", "--rm", "ops", "deno", "task", "doctor"], {
      timeoutMs: 300_000,
    });
    console.log(tail(out, 4));
  });
  await clock.step("security scan in the app image (deno task scan, as root)", async () => {
    // Root only for apt-get update: the image keeps no package lists.
    const result = await compose!.attempt(
      ["run", "--rm", "--user", "root", "ops", "deno", "task", "scan", "--apt-update", "--json"],
      { timeoutMs: 300_000 },
    );
    console.log(judgeImageScan(result.code, result.stdout).join("\n"));
  });
  await clock.step("stop everything, leave nothing behind", async () => {
    const started = performance.now();
    await compose!.run(["down", "--volumes", "--remove-orphans", "--timeout", "20"], {
      timeoutMs: 300_000,
    });
    console.log(`    compose down --volumes in ${seconds(started)}`);
    await cleanUp();
  });
} catch (error) {
  // Interrupted: the signal handler is cleaning up and exits; the step failed only because of it.
  if (interrupted) await new Promise(() => {});
  if (error instanceof CannotRun) {
    const last = clock.steps.at(-1);
    if (last) last.outcome = "skipped";
    console.log(`\nSKIPPED: deploy:smoke cannot run on this machine: ${error.message}`);
    code = 77;
  } else {
    code = 1;
    console.error(`\nFAILED: ${error instanceof Error ? error.message : error}`);
    if (!(error instanceof SmokeError) && error instanceof Error) console.error(error.stack);
    if (compose) {
      console.error(
        await compose.run(["ps"]).catch((e) => `compose ps failed: ${e.message}`),
      );
    }
    if (engine) console.error(`the engine's last words:\n${tail(await engine.log(), 15)}`);
    if (keepFailed && engine) {
      console.error(`\n--keep-failed: the engine still runs: export DOCKER_HOST=${engine.host}`);
      console.error(
        `clean up with: deno task deploy:smoke --no-cache --help (any next run removes it)`,
      );
    } else {
      await clock.step("stop everything after the failure", cleanUp).catch((e) =>
        console.error(`cleanup failed: ${e.message}`)
      );
    }
  }
} finally {
  lock.close();
}
console.log(`\ndeploy:smoke step times:\n${clock.table()}`);
console.log(code === 0 ? "\ndeploy:smoke PASSED" : code === 77 ? "" : "\ndeploy:smoke FAILED");
Deno.exit(code);

/** Stops the engine, removes the namespace and the engine's directories (once). */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const problems: string[] = [];
    let started = performance.now();
    if (engine) await engine.stop().catch((e) => problems.push(`engine: ${e.message}`));
    else await stopLeftoverEngine(dirs).catch(() => {});
    console.log(`    engine stopped in ${seconds(started)}`);
    started = performance.now();
    if (net) await net.remove().catch((e) => problems.push(e.message));
    problems.push(...await removeWorkDirs());
    console.log(`    namespace, NAT rule and ${WORK_DIR} removed in ${seconds(started)}`);
    if (problems.length) throw new SmokeError(problems.join("; "));
  })();
  return cleaning;
}

/** Removes the engine's directories; returns what could not be removed. */
async function removeWorkDirs(): Promise<string[]> {
  const problems: string[] = [];
  await unmountUnder(dirs.dataRoot);
  for (const dir of [WORK_DIR, dirs.execRoot]) {
    await Deno.remove(dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) problems.push(`rm ${dir}: ${e.message}`);
    });
  }
  return problems;
}

/** Mounts the engine left in this mount namespace (none normally: they live in its own). */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await Deno.readTextFile("/proc/self/mounts").catch(() => "")).split("\n")
    .map((line) => line.split(" ")[1]).filter((path) => path?.startsWith(`${dir}/`));
  for (const path of mounts.reverse()) {
    await new Deno.Command("umount", { args: ["-l", path] }).output().catch(() => {});
  }
}

/** One smoke test at a time on a machine (fixed namespace and directory names). */
async function takeLock(): Promise<Deno.FsFile> {
  await Deno.mkdir("/run/lock", { recursive: true }).catch(() => {});
  const file = await Deno.open("/run/lock/fp-deploy-smoke.lock", {
    create: true,
    write: true,
  }).catch(() => Deno.open(`${Deno.makeTempDirSync()}/lock`, { create: true, write: true }));
  if (!(await file.tryLock(true))) {
    console.log("another deploy:smoke runs on this machine; waiting for it");
    await file.lock(true);
  }
  return file;
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function randomSecret(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
}
