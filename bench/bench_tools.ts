/**
 * What the benchmarks share: wrk and h2load runners (with a clear message when either is
 * missing), interleaved rounds, and medians with their spread.
 *
 * @module
 */
import { hasCommand } from "../tests/harness/processes.ts";

/** One measurement: requests per second and latency figures as the tool printed them. */
export interface LoadResult {
  rps: number;
  p50: string;
  p99: string;
  errors: number;
}

/**
 * Exits with an install hint when a load tool is missing (wrk, h2load).
 *
 * @example
 * ```ts
 * requireTools(["wrk", "h2load"]);
 * ```
 */
export function requireTools(tools: Array<"wrk" | "h2load">): void {
  const packages: Record<string, string> = { wrk: "wrk", h2load: "nghttp2-client" };
  const missing = tools.filter((tool) => !hasCommand(tool));
  if (missing.length === 0) return;
  console.error(
    `missing ${missing.join(", ")}: install with ` +
      `\`apt-get install -y ${missing.map((t) => packages[t]).join(" ")}\` (Debian)`,
  );
  Deno.exit(2);
}

/** A wrk request description: method POST, body bytes and headers. */
export interface WrkRequest {
  body: Uint8Array | string;
  headers: Record<string, string>;
}

/**
 * Writes a wrk Lua script that POSTs the body (binary-safe) with the headers.
 *
 * @example
 * ```ts
 * const script = await wrkScript({ body: "{}", headers: { "content-type": "application/json" } });
 * ```
 */
export async function wrkScript(request: WrkRequest): Promise<string> {
  const bytes = typeof request.body === "string"
    ? new TextEncoder().encode(request.body)
    : request.body;
  const luaBody = [...bytes].map((b) => `\\${b}`).join("");
  const lines = [`wrk.method = "POST"`, `wrk.body = "${luaBody}"`];
  for (const [name, value] of Object.entries(request.headers)) {
    lines.push(`wrk.headers["${name}"] = "${value}"`);
  }
  const path = await Deno.makeTempFile({ prefix: "fp-bench-", suffix: ".lua" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/**
 * Runs `wrk -t2 -c<connections> -d<seconds>s --latency` and parses its summary.
 *
 * @example
 * ```ts
 * const result = await wrk(url, script, { seconds: 5, connections: 64 });
 * ```
 */
export async function wrk(
  url: string,
  script: string,
  options: { seconds: number; connections: number },
): Promise<LoadResult> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t2",
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--latency",
      "-s",
      script,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
    .exec(text);
  const errors = non2xx +
    (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  return {
    rps,
    p50: /\s50%\s+([\d.]+\w+)/.exec(text)?.[1] ?? "?",
    p99: /\s99%\s+([\d.]+\w+)/.exec(text)?.[1] ?? "?",
    errors,
  };
}

/**
 * Runs h2load over h2c (prior knowledge) with `-c<connections> -m<streams>` for a duration.
 *
 * @example
 * ```ts
 * const result = await h2load(url, { body: "{}", headers }, { seconds: 5, connections: 64, streams: 1 });
 * ```
 */
export async function h2load(
  url: string,
  request: WrkRequest,
  options: { seconds: number; connections: number; streams: number },
): Promise<LoadResult> {
  const bodyFile = await Deno.makeTempFile({ prefix: "fp-bench-" });
  await Deno.writeFile(
    bodyFile,
    typeof request.body === "string" ? new TextEncoder().encode(request.body) : request.body,
  );
  const headerArgs = Object.entries(request.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  const out = await new Deno.Command("h2load", {
    args: [
      "-D",
      String(options.seconds),
      "-c",
      String(options.connections),
      "-m",
      String(options.streams),
      "-t",
      "2",
      "-d",
      bodyFile,
      ...headerArgs,
      url,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(bodyFile);
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(text)?.[1] ?? NaN);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const failed = Number(/requests: .*?(\d+) failed/.exec(text)?.[1] ?? 0);
  const line = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(text);
  return {
    rps,
    p50: `mean ${line?.[3] ?? "?"}`,
    p99: `max ${line?.[2] ?? "?"}`,
    errors: failed + (status ? Number(status[3]) + Number(status[4]) : 0),
  };
}

/**
 * The median of the values (the mean of the two middle ones for an even count).
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The value at percentile p (0-100) of an ascending list (nearest rank).
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * "median (min-max)" of a list of numbers, with the given digits.
 *
 * @example
 * ```ts
 * spread([1, 2, 4], 0); // "2 (1-4)"
 * ```
 */
export function spread(values: readonly number[], digits = 0): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${
    Math.max(...values).toFixed(digits)
  })`;
}

/**
 * Sums the load average of the last minute and the number of cores, for the report line.
 *
 * @example
 * ```ts
 * console.log(machineLoad()); // "load 1.02 on 2 cores"
 * ```
 */
export function machineLoad(): string {
  const [one] = Deno.loadavg();
  return `load average ${one.toFixed(2)} on ${navigator.hardwareConcurrency} cores`;
}
