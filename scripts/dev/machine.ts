/**
 * Small questions about the machine `deno task start` runs on: does a port answer, where is a
 * program, does a user exist.
 *
 * @module
 */

/**
 * Whether something accepts TCP connections on 127.0.0.1:`port` within `timeoutMs`.
 *
 * @example
 * ```ts
 * if (await portAnswers(5432)) console.log("a PostgreSQL (or something) is there");
 * ```
 */
export async function portAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const attempt = Deno.connect({ hostname: "127.0.0.1", port }).then(
    (conn) => conn,
    () => undefined,
  );
  try {
    const result = await Promise.race([attempt, timeout]);
    if (result === "timeout") {
      attempt.then((conn) => conn?.close());
      return false;
    }
    result?.close();
    return result !== undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Directories searched besides PATH: Debian puts servers in sbin, which users' PATH lacks. */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/**
 * The full path of an executable `name` on PATH (or in an sbin directory), if any.
 *
 * @example
 * ```ts
 * findProgram("nats-server"); // "/usr/sbin/nats-server"
 * ```
 */
export function findProgram(name: string, path = Deno.env.get("PATH") ?? ""): string | undefined {
  for (const dir of [...path.split(":"), ...EXTRA_DIRS]) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * Whether a user account exists (from /etc/passwd).
 *
 * @example
 * ```ts
 * userExists("postgres");
 * ```
 */
export function userExists(name: string): boolean {
  try {
    return Deno.readTextFileSync("/etc/passwd").split("\n").some((line) =>
      line.startsWith(`${name}:`)
    );
  } catch {
    return false;
  }
}

/**
 * Runs a command to completion; returns its exit status and combined output.
 *
 * @example
 * ```ts
 * const { success, output } = await run("nats-server", ["--version"]);
 * ```
 */
export async function run(
  program: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ success: boolean; output: string }> {
  try {
    const result = await new Deno.Command(program, { args, env, stdin: "null" }).output();
    const decoder = new TextDecoder();
    return {
      success: result.success,
      output: (decoder.decode(result.stdout) + decoder.decode(result.stderr)).trim(),
    };
  } catch (error) {
    return { success: false, output: error instanceof Error ? error.message : String(error) };
  }
}
