/**
 * What a `deno task` runs, read from deno.json: its environment assignments, `deno run` flags
 * (the permissions) and script. One home for each program's permissions: `deno task start` runs
 * its children with their own tasks' flags, and a test boots each service under them.
 *
 * @module
 */

/** A task's `deno run` command, taken apart. */
export interface TaskRun {
  /** `NAME=value` assignments before `deno`. */
  env: Record<string, string>;
  /** Flags between `deno run` and the script (`--allow-net`, `--v8-flags=...`). */
  flags: string[];
  /** The script. */
  script: string;
}

/**
 * Parses a task command of the form `[A=b ...] deno run [flags] script [args]`.
 *
 * @example
 * ```ts
 * parseTaskRun("OTEL_SERVICE_NAME=x deno run --allow-net services/users/main.ts");
 * // { env: { OTEL_SERVICE_NAME: "x" }, flags: ["--allow-net"], script: "services/users/main.ts" }
 * ```
 */
export function parseTaskRun(command: string): TaskRun {
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? "")) {
    const [name, ...value] = words.shift()!.split("=");
    env[name] = value.join("=");
  }
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`not a "deno run" task: ${command}`);
  }
  const rest = words.slice(2);
  const at = rest.findIndex((w) => !w.startsWith("-"));
  if (at < 0) throw new Error(`no script in: ${command}`);
  return { env, flags: rest.slice(0, at), script: rest[at] };
}

/**
 * A task's command from deno.json (string or `{ description, command }`).
 *
 * @example
 * ```ts
 * const run = parseTaskRun(await taskCommand("start:users"));
 * ```
 */
export async function taskCommand(
  name: string,
  root = new URL("../../", import.meta.url),
): Promise<string> {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const task = tasks[name];
  if (task === undefined) throw new Error(`deno.json has no task ${name}`);
  return typeof task === "string" ? task : task.command;
}

/**
 * The permission flags (`--allow-*`) of a `deno run` task, as the image, compose and Kubernetes
 * repeat them.
 *
 * @example
 * ```ts
 * await taskPermissions("start:users"); // ["--allow-net", "--allow-env", ...]
 * ```
 */
export async function taskPermissions(
  name: string,
  root = new URL("../../", import.meta.url),
): Promise<string[]> {
  return parseTaskRun(await taskCommand(name, root)).flags.filter((f) => f.startsWith("--allow"));
}
