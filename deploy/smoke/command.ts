/**
 * Running the machine's programs for the smoke test: output captured, a time limit, and an error
 * that carries the program's last words.
 *
 * @module
 */

/** A failed smoke step; the message says what failed and shows the relevant output. */
export class SmokeError extends Error {
  override name = "SmokeError";
}

/** The smoke test cannot run on this machine at all (no container engine possible). */
export class CannotRun extends Error {
  override name = "CannotRun";
}

/** Options of {@link run}. */
export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
  /** Text written to the program's stdin. */
  input?: string;
  /** Print the program's output as it runs (each line indented). */
  echo?: boolean;
}

/** What a program did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs `program` to completion.
 *
 * @example
 * ```ts
 * const { code, stdout } = await run("ip", ["netns", "list"]);
 * ```
 */
export async function run(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(program, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: options.input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, options.timeoutMs ?? 600_000);
  if (options.input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.input));
    await writer.close();
  }
  const [stdout, stderr, status] = await Promise.all([
    collect(child.stdout, options.echo),
    collect(child.stderr, options.echo),
    child.status,
  ]);
  clearTimeout(timer);
  return { code: status.code, stdout, stderr, timedOut };
}

/**
 * Runs `program` and throws a {@link SmokeError} with its output's tail unless it exits 0.
 *
 * @example
 * ```ts
 * const out = await must("docker", ["version"]);
 * ```
 */
export async function must(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<string> {
  const result = await run(program, args, options);
  if (result.code !== 0 || result.timedOut) {
    const what = `${program} ${args.join(" ")}`.slice(0, 200);
    throw new SmokeError(
      `${what} ${
        result.timedOut
          ? `timed out after ${(options.timeoutMs ?? 600_000) / 1000} s`
          : `exited ${result.code}`
      }:\n${tail(result.stdout + "\n" + result.stderr)}`,
    );
  }
  return result.stdout;
}

/**
 * The last `lines` non-empty lines of `text`, indented.
 *
 * @example
 * ```ts
 * tail("a\nb\nc", 2); // "    b\n    c"
 * ```
 */
export function tail(text: string, lines = 25): string {
  return text.split("\n").filter((l) => l.trim() !== "").slice(-lines).map((l) => `    ${l}`)
    .join("\n");
}

async function collect(stream: ReadableStream<Uint8Array>, echo?: boolean): Promise<string> {
  let all = "";
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    all += chunk;
    if (echo) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) console.log(`    ${line}`);
    }
  }
  if (echo && pending) console.log(`    ${pending}`);
  return all;
}

/**
 * Waits until `check` returns a value (not undefined), trying every `intervalMs`; throws
 * {@link SmokeError} with `describe()` after `timeoutMs`.
 *
 * @example
 * ```ts
 * await eventually(async () => (await ready()) || undefined, 60_000, () => "the engine");
 * ```
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  describe: () => string | Promise<string>,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new SmokeError(
    `timed out after ${timeoutMs / 1000} s waiting for ${await describe()}${reason}`,
  );
}
