/**
 * Runs `pg_dump --format=custom` with its archive on stdout, as a stream. The stream fails (instead
 * of ending normally) when pg_dump exits non-zero, so a half-written dump is never kept.
 *
 * @module
 */
import { OpsError } from "../shared/errors.ts";
import { libpqEnv, type PgTool, tail } from "../shared/pg_tools.ts";

/** A running pg_dump. */
export interface DumpProcess {
  /** The archive bytes. */
  stdout: ReadableStream<Uint8Array>;
  /** Resolves when pg_dump exited 0; rejects with its error output otherwise. */
  finished: Promise<void>;
  /** Stops pg_dump (on abort). */
  kill(): void;
}

/** Options of {@link startPgDump}. */
export interface PgDumpOptions {
  /** A snapshot exported with pg_export_snapshot(), so the dump matches counts taken in it. */
  snapshot?: string;
  /** Extra arguments (e.g. `--exclude-table-data`). */
  extraArgs?: string[];
}

/**
 * Starts pg_dump against the database of `url` (credentials passed through libpq's environment).
 *
 * @example
 * ```ts
 * const dump = startPgDump(pgDump, config.databaseUrl, { snapshot });
 * await dump.stdout.pipeTo(file.writable);
 * await dump.finished;
 * ```
 */
export function startPgDump(tool: PgTool, url: string, options: PgDumpOptions = {}): DumpProcess {
  const args = ["--format=custom", "--no-password"];
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`);
  args.push(...(options.extraArgs ?? []));
  const child = new Deno.Command(tool.path, {
    args,
    env: libpqEnv(url, "fp-ops-backup"),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const errors = new Response(child.stderr).text();
  const finished = (async () => {
    const status = await child.status;
    const stderr = await errors.catch(() => "");
    if (!status.success) {
      const why = status.signal ? `was stopped by ${status.signal}` : `exited with ${status.code}`;
      throw new OpsError(`pg_dump ${why}: ${tail(stderr) || "(no error output)"}`);
    }
  })();
  finished.catch(() => {}); // observed by the caller; never an unhandled rejection
  return {
    stdout: child.stdout,
    finished,
    kill: () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
    },
  };
}
