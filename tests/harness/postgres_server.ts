/**
 * A throwaway PostgreSQL server (initdb + postgres on a free port) that tests may stop, kill and
 * start again. Falls back to TEST_DATABASE_URL when the binaries are missing.
 *
 * @module
 */
import postgres from "postgres";
import {
  freePort,
  spawnTracked,
  type TrackedProcess,
  trackedTempDir,
  waitUntil,
} from "./processes.ts";

function postgresBinDir(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
      .filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = `/usr/lib/postgresql/${version}/bin`;
      try {
        Deno.statSync(`${dir}/initdb`);
        return dir;
      } catch { /* next */ }
    }
  } catch { /* no Debian layout */ }
  return undefined;
}

/**
 * A PostgreSQL instance owned by the test.
 *
 * @example
 * ```ts
 * const pg = await PostgresServer.start();
 * const url = pg.url("freelance_platform_test");
 * await pg.stop();
 * ```
 */
export class PostgresServer {
  private process?: TrackedProcess;

  private constructor(
    readonly port: number,
    readonly dataDir: string | undefined,
    private readonly binDir: string | undefined,
    private readonly externalUrl?: string,
    private readonly durable = false,
    private readonly diskDurable = false,
  ) {}

  /**
   * Starts a fresh instance (or wraps TEST_DATABASE_URL when PostgreSQL is not installed).
   * By default commits are not waited for on disk (`synchronous_commit=off`, fast for tests);
   * `durable: true` keeps PostgreSQL's default, so a commit that was acknowledged survives the
   * server being killed (what the chaos suite checks). `diskDurable: true` keeps all of
   * PostgreSQL's default durability settings (`fsync=on`, `full_page_writes=on`,
   * `synchronous_commit=on`): every commit waits for its WAL flush, as on a production server
   * (what `bench:write` measures against).
   */
  static async start(
    options: { durable?: boolean; diskDurable?: boolean } = {},
  ): Promise<PostgresServer> {
    const binDir = postgresBinDir();
    if (!binDir) {
      const url = Deno.env.get("TEST_DATABASE_URL");
      if (!url) {
        throw new Error("no PostgreSQL binaries and no TEST_DATABASE_URL: install postgresql");
      }
      return new PostgresServer(Number(new URL(url).port || 5432), undefined, undefined, url);
    }
    const dataDir = await trackedTempDir("fp-pg-");
    if (Deno.uid() === 0) {
      await new Deno.Command("chown", { args: ["-R", "postgres:postgres", dataDir] }).output();
    }
    const init = spawnTracked(`${binDir}/initdb`, {
      args: ["-D", `${dataDir}/data`, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
      asPostgresUser: true,
    });
    const status = await init.status;
    if (!status.success) throw new Error(`initdb failed:\n${init.lines.join("\n")}`);
    const server = new PostgresServer(
      freePort(),
      dataDir,
      binDir,
      undefined,
      options.durable || options.diskDurable,
      options.diskDurable,
    );
    await server.resume();
    return server;
  }

  /** A connection URL for a database of this server (created on first use by {@link createDatabase}). */
  url(database = "postgres"): string {
    if (this.externalUrl) {
      const url = new URL(this.externalUrl);
      url.pathname = `/${database}`;
      return url.toString();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates a database (dropping any of the same name) and returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const sql = postgres(this.url("postgres"), { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await sql.unsafe(`CREATE DATABASE "${name}"`);
    } finally {
      await sql.end();
    }
    return this.url(name);
  }

  /** Starts the server again on the same port and data (after {@link stop} or {@link kill}). */
  async resume(): Promise<void> {
    if (!this.binDir || !this.dataDir) return;
    this.process = spawnTracked(`${this.binDir}/postgres`, {
      args: [
        "-D",
        `${this.dataDir}/data`,
        "-p",
        String(this.port),
        "-h",
        "127.0.0.1",
        "-k",
        this.dataDir,
        "-c",
        `fsync=${this.diskDurable ? "on" : "off"}`,
        "-c",
        `synchronous_commit=${this.durable ? "on" : "off"}`,
        "-c",
        `full_page_writes=${this.diskDurable ? "on" : "off"}`,
        "-c",
        "max_connections=300",
        "-c",
        "shared_preload_libraries=pg_stat_statements",
      ],
      asPostgresUser: true,
    });
    await waitUntil(
      async () => {
        const sql = postgres(this.url("postgres"), {
          max: 1,
          connect_timeout: 1,
          onnotice: () => {},
        });
        try {
          await sql`SELECT 1`;
        } finally {
          await sql.end({ timeout: 1 });
        }
      },
      20_000,
      "postgres",
    );
  }

  /**
   * Stops the server as `pg_ctl stop -m <mode>` would: `smart` (SIGTERM: waits for sessions to
   * end), `fast` (SIGINT, the default: disconnects sessions, clean shutdown) or `immediate`
   * (SIGQUIT: no shutdown checkpoint, crash recovery at the next start).
   */
  async stop(mode: "smart" | "fast" | "immediate" = "fast"): Promise<void> {
    if (!this.process) return;
    this.unpause();
    this.process.kill(mode === "smart" ? "SIGTERM" : mode === "fast" ? "SIGINT" : "SIGQUIT");
    await this.process.status;
    this.process = undefined;
  }

  /**
   * Kills the postmaster and every backend at once (SIGKILL), as an OOM kill or a lost machine
   * would; the next {@link resume} runs crash recovery.
   */
  async kill(): Promise<void> {
    if (!this.process) return;
    this.process.killTree("SIGCONT");
    this.process.killTree("SIGKILL");
    await this.process.status;
    this.process = undefined;
  }

  /** Freezes the server and its backends (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.process?.killTree("SIGSTOP");
  }

  /** Unfreezes a paused server. */
  unpause(): void {
    this.process?.killTree("SIGCONT");
  }

  /** Stops the server and removes its files. */
  async destroy(): Promise<void> {
    this.unpause();
    await this.stop();
    if (this.dataDir) await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }
}
