/**
 * The images compose.yaml and deploy/Dockerfile build on: pulled when a registry answers,
 * otherwise built here as stand-ins (see stand-ins/README.md) from a Debian root file system that
 * mmdebstrap makes (cached between runs, see {@link RootfsCache}).
 *
 * @module
 */
import { run, SmokeError } from "./command.ts";
import type { Engine } from "./engine.ts";
import { parse as parseYaml } from "yaml";

/** A base image and the stand-in that can replace it. */
export interface BaseImage {
  image: string;
  /** Directory under deploy/smoke/stand-ins/. */
  standIn: string;
}

const STAND_INS: Array<[RegExp, string]> = [
  [/^denoland\/deno:/, "deno"],
  [/^postgres:/, "postgres"],
  [/^nats:/, "nats"],
  [/^redis:/, "redis"],
  [/^nginx:/, "nginx"],
  [/postgres-exporter:/, "postgres-exporter"],
  [/redis_exporter:/, "redis-exporter"],
  [/prometheus:/, "prometheus"],
];

/**
 * The registry images `compose up` needs: every service's image that is not built here and not
 * behind a profile, plus the Dockerfile's FROM.
 *
 * @example
 * ```ts
 * baseImages(composeText, dockerfileText);
 * // [{ image: "denoland/deno:2.9.6", standIn: "deno" }, { image: "postgres:15-alpine", standIn: "postgres" }, ...]
 * ```
 */
export function baseImages(composeText: string, dockerfileText: string): BaseImage[] {
  const compose = parseYaml(composeText) as {
    services: Record<string, { image?: string; build?: unknown; profiles?: string[] }>;
  };
  const from = /^FROM\s+(\S+)/m.exec(dockerfileText)?.[1];
  if (!from) throw new SmokeError("deploy/Dockerfile has no FROM");
  const images = [from];
  for (const service of Object.values(compose.services)) {
    if (service.image && !service.build && !service.profiles?.length) images.push(service.image);
  }
  // The ops service reuses an application image, which is built, not pulled.
  return [...new Set(images)].filter((image) => !image.startsWith("freelance-platform/")).map(
    (image) => {
      const standIn = STAND_INS.find(([pattern]) => pattern.test(image))?.[1];
      if (!standIn) {
        throw new SmokeError(
          `no stand-in for ${image}: add one under deploy/smoke/stand-ins/ (no registry answers here)`,
        );
      }
      return { image, standIn };
    },
  );
}

/** Where the Debian root file system is kept between runs. */
export interface RootfsCache {
  /** Directory of the cache, or undefined: build it every time, keep nothing. */
  dir?: string;
  /** Rebuilt when older than this (Debian's updates). */
  maxAgeDays: number;
}

/** What {@link provideBaseImages} did. */
export interface BaseImagesReport {
  pulled: string[];
  builtLocally: string[];
  rootfs?: "cached" | "built";
}

/**
 * Makes every base image available to `engine`: present already, pulled, or built locally.
 *
 * @example
 * ```ts
 * await provideBaseImages(engine, images, { repoRoot, workDir, cache: { dir, maxAgeDays: 7 } });
 * ```
 */
export async function provideBaseImages(
  engine: Engine,
  images: BaseImage[],
  where: { repoRoot: string; workDir: string; cache: RootfsCache },
): Promise<BaseImagesReport> {
  const report: BaseImagesReport = { pulled: [], builtLocally: [] };
  const missing: BaseImage[] = [];
  await Promise.all(images.map(async (base) => {
    const present = await run(engine.dockerCli, ["image", "inspect", base.image], {
      env: engine.env,
    });
    if (present.code === 0) return;
    const pull = await run(engine.dockerCli, ["pull", "-q", base.image], {
      env: engine.env,
      timeoutMs: 180_000,
    });
    if (pull.code === 0) {
      report.pulled.push(base.image);
    } else {
      console.log(`    ${base.image}: no registry answers (${firstLine(pull.stderr)}): stand-in`);
      missing.push(base);
    }
  }));
  if (missing.length === 0) return report;

  const debian = "fp-smoke/debian:bookworm";
  let started = performance.now();
  report.rootfs = await importRootfs(engine, debian, where);
  console.log(`    Debian root file system ${report.rootfs} and imported in ${since(started)}`);
  const standIns = `${where.repoRoot}/deploy/smoke/stand-ins`;
  if (missing.some((m) => m.standIn !== "deno")) {
    console.log("    building the server stand-ins' Debian layer (apt-get install in a container)");
    started = performance.now();
    await engine.docker(
      [
        "build",
        "-q",
        "--build-arg",
        `BASE=${debian}`,
        "-t",
        "fp-smoke/services-base",
        `${standIns}/services-base`,
      ],
      { timeoutMs: 900_000 },
    );
    console.log(`    server stand-ins' Debian layer built in ${since(started)}`);
  }
  started = performance.now();
  for (const base of missing) {
    let context = `${standIns}/${base.standIn}`;
    let arg = "BASE=fp-smoke/services-base";
    if (base.standIn === "deno") {
      context = await denoContext(where.repoRoot, where.workDir, base.image.split(":")[1]);
      arg = `BASE=${debian}`;
    }
    await engine.docker(["build", "-q", "--build-arg", arg, "-t", base.image, context], {
      timeoutMs: 300_000,
    });
    report.builtLocally.push(base.image);
  }
  console.log(`    ${missing.length} stand-ins built in ${since(started)}`);
  return report;
}

function since(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

/** The mmdebstrap call: Debian bookworm, minimal, with apt, certificates and tini. */
const MMDEBSTRAP_ARGS = [
  "--variant=minbase",
  "--format=tar",
  "--include=ca-certificates,tini",
  "--dpkgopt=force-unsafe-io",
  "--dpkgopt=path-exclude=/usr/share/doc/*",
  "--dpkgopt=path-exclude=/usr/share/man/*",
  "--dpkgopt=path-exclude=/usr/share/info/*",
  "--dpkgopt=path-exclude=/usr/share/locale/*",
  '--aptopt=Acquire::Languages "none"',
  "bookworm",
];
const SOURCES = [
  "deb http://deb.debian.org/debian bookworm main",
  "deb http://deb.debian.org/debian bookworm-updates main",
  "deb http://deb.debian.org/debian-security bookworm-security main",
];

async function importRootfs(
  engine: Engine,
  tag: string,
  where: { workDir: string; cache: RootfsCache },
): Promise<"cached" | "built"> {
  const recipe = [...MMDEBSTRAP_ARGS, ...SOURCES].join("\n");
  const key = (await sha256(recipe)).slice(0, 12);
  const name = `debian-bookworm-minbase-${key}.tar`;
  const cached = where.cache.dir ? `${where.cache.dir}/${name}` : undefined;
  let outcome: "cached" | "built" = "built";
  let tarball = `${where.workDir}/${name}`;
  if (cached && await fresh(cached, where.cache.maxAgeDays)) {
    console.log(`    Debian root file system from the cache: ${cached}`);
    tarball = cached;
    outcome = "cached";
  } else {
    console.log("    making a Debian root file system with mmdebstrap");
    const partial = `${cached ?? tarball}.partial`;
    const shm = await tmpfs("/dev/shm") ? { TMPDIR: "/dev/shm" } : undefined;
    if (cached) await Deno.mkdir(where.cache.dir!, { recursive: true });
    const made = await run("mmdebstrap", [...MMDEBSTRAP_ARGS, partial, ...SOURCES], {
      env: shm,
      timeoutMs: 900_000,
    });
    if (made.code !== 0) {
      await Deno.remove(partial).catch(() => {});
      throw new SmokeError(`mmdebstrap failed:\n${made.stderr.split("\n").slice(-20).join("\n")}`);
    }
    tarball = cached ?? tarball;
    await Deno.rename(partial, tarball);
  }
  await engine.docker(["import", tarball, tag], { timeoutMs: 300_000 });
  if (!cached) await Deno.remove(tarball).catch(() => {});
  return outcome;
}

/** The build context of the deno stand-in: its files, Deno from tools/, the machine's CAs. */
async function denoContext(repoRoot: string, workDir: string, version: string): Promise<string> {
  const dir = `${workDir}/deno-stand-in`;
  await Deno.mkdir(dir, { recursive: true });
  for (const file of ["Dockerfile", "docker-entrypoint.sh"]) {
    await Deno.copyFile(`${repoRoot}/deploy/smoke/stand-ins/deno/${file}`, `${dir}/${file}`);
  }
  await Deno.chmod(`${dir}/docker-entrypoint.sh`, 0o755);
  // The pinned Deno that ./deno installed from npm (the tag's version), else this one if it is.
  const pinned = `${repoRoot}/tools/node_modules/deno/deno`;
  const binary = await Deno.stat(pinned).then(() => pinned, () => Deno.execPath());
  const have = (await run(binary, ["--version"])).stdout.split(/\s+/)[1];
  if (have !== version) {
    throw new SmokeError(
      `the stand-in for denoland/deno:${version} needs Deno ${version}; ` +
        `${binary} is ${have} (run ./deno once to install the pinned one)`,
    );
  }
  await Deno.copyFile(binary, `${dir}/deno`);
  const bundle = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
    .find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    });
  await Deno.writeTextFile(
    `${dir}/machine-ca-bundle.crt`,
    bundle ? await Deno.readTextFile(bundle) : "",
  );
  return dir;
}

async function fresh(path: string, maxAgeDays: number): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return Date.now() - (info.mtime?.getTime() ?? 0) < maxAgeDays * 86_400_000;
  } catch {
    return false;
  }
}

async function tmpfs(path: string): Promise<boolean> {
  const mounts = await Deno.readTextFile("/proc/mounts").catch(() => "");
  return mounts.split("\n").some((line) => {
    const [, mountPoint, type] = line.split(" ");
    return mountPoint === path && type === "tmpfs";
  });
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function firstLine(text: string): string {
  return text.trim().split("\n").at(-1)?.slice(0, 120) ?? "";
}
