/**
 * Runs `pgbench` with a script file against a database and reads its throughput: the anchor the
 * write benchmark compares CreateTask with (same server, same concurrency, same run).
 *
 * @module
 */

/** Where pgbench is: on PATH (postgresql-client) or beside the server binaries; undefined when missing. */
export function findPgbench(): string | undefined {
  const candidates = ["pgbench"];
  try {
    for (const entry of Deno.readDirSync("/usr/lib/postgresql")) {
      candidates.push(`/usr/lib/postgresql/${entry.name}/bin/pgbench`);
    }
  } catch { /* no Debian layout */ }
  for (const candidate of candidates) {
    try {
      const out = new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      })
        .outputSync();
      if (out.success) return candidate;
    } catch { /* next */ }
  }
  return undefined;
}

/** What one pgbench run printed. */
export interface PgbenchResult {
  /** Transactions per second (without the initial connection time). */
  tps: number;
  /** Average latency, milliseconds. */
  latencyMs: number;
  /** Failed transactions. */
  failed: number;
}

/**
 * `pgbench -n -M prepared -f <script> -c <clients> -j 2 -T <seconds> <url>`.
 *
 * @example
 * ```ts
 * const result = await pgbench("pgbench", url, "/tmp/insert.sql", { clients: 16, seconds: 10 });
 * ```
 */
export async function pgbench(
  binary: string,
  url: string,
  scriptPath: string,
  options: { clients: number; seconds: number },
): Promise<PgbenchResult> {
  const out = await new Deno.Command(binary, {
    args: [
      "-n",
      "-M",
      "prepared",
      "-f",
      scriptPath,
      "-c",
      String(options.clients),
      "-j",
      "2",
      "-T",
      String(options.seconds),
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(text)?.[1] ?? NaN);
  if (!out.success || Number.isNaN(tps)) {
    throw new Error(`pgbench failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return {
    tps,
    latencyMs: Number(/latency average = ([\d.]+) ms/.exec(text)?.[1] ?? NaN),
    failed: Number(/number of failed transactions: (\d+)/.exec(text)?.[1] ?? 0),
  };
}
