/**
 * Runs `deno doc --lint` over the exports of every workspace member (read from the root
 * deno.json `workspace` list and each member's deno.json `exports`) and exits non-zero when a
 * member has documentation problems. Prints one line per member with its count.
 *
 * Problems matching an entry of {@linkcode PENDING} are printed as counts but do not fail the run
 * (modules being rewritten on other branches, messages still without a comment in their .proto);
 * remove an entry once it is clean. Problems located outside the repository, in the declarations of
 * an npm package that an entry re-exports a type of, are not ours to fix and never fail the run
 * (see {@linkcode isOutside}). `--all` ignores {@linkcode PENDING}; `--verbose` prints every
 * diagnostic.
 *
 * Usage: `deno task doc:lint [--all] [--verbose] [member ...]`, e.g. `deno task doc:lint lib`.
 *
 * @module
 */

/** Problems that do not fail the run yet: a path prefix (from the repository root), a rule or all. */
export interface Pending {
  /** Matches locations starting with it, e.g. `lib/log/`. */
  path: string;
  /** Only this rule (e.g. `missing-jsdoc`); every rule when absent. */
  kind?: string;
  /** Why it is pending, printed with its count. */
  why: string;
}

/** What does not fail the run yet; remove an entry when its problems are fixed. */
export const PENDING: readonly Pending[] = [
  { path: "lib/server/", why: "being rewritten on branch tracing" },
  { path: "lib/log/", why: "being rewritten on branch tracing" },
  { path: "lib/events/durable_consumer.ts", why: "being rewritten on branch tracing" },
  { path: "lib/tracing/", why: "new on branch tracing" },
  { path: "lib/events/outbox/", why: "being rewritten on branch write" },
  {
    path: "proto/gen/",
    kind: "missing-jsdoc",
    why: "message, enum or service without a comment in its .proto",
  },
];

/** One problem reported by `deno doc --lint`. */
export interface DocProblem {
  /** The rule, e.g. `missing-jsdoc`, `private-type-ref`, `missing-explicit-return-type`. */
  kind: string;
  /** The first line of the message. */
  message: string;
  /** Where the symbol is, relative to the root when under it, e.g. `lib/errors.ts:19:3`. */
  location: string;
  /** The whole diagnostic as printed, for `--verbose`. */
  text: string;
}

// deno-lint-ignore no-control-regex
const ansi = /\x1b\[[0-9;]*m/g;

/**
 * Parses the output of `deno doc --lint` (colour codes allowed) into its problems; warnings
 * (e.g. unresolved types of npm packages) and the summary line are skipped.
 *
 * @param output What `deno doc --lint` printed on stdout and stderr.
 * @param root An absolute path prefix (ending in `/`) cut from locations.
 * @returns The problems in the order printed.
 *
 * @example Parse one diagnostic
 * ```ts
 * import { parseDocLint } from "./doc_lint.ts";
 * const out = "error[missing-jsdoc]: exported symbol is missing JSDoc documentation\n" +
 *   "  --> /repo/lib/errors.ts:19:3\n";
 * const [problem] = parseDocLint(out, "/repo/");
 * console.log(problem.kind, problem.location); // missing-jsdoc lib/errors.ts:19:3
 * ```
 */
export function parseDocLint(output: string, root: string): DocProblem[] {
  const lines = output.replace(ansi, "").split("\n");
  const problems: DocProblem[] = [];
  let current: DocProblem | undefined;
  for (const line of lines) {
    const head = /^error\[([a-z-]+)\]: (.*)$/.exec(line);
    if (head) {
      current = { kind: head[1], message: head[2], location: "", text: line };
      problems.push(current);
      continue;
    }
    if (!current) continue;
    if (/^(Warning|error:) /.test(line) || line.startsWith("    at file://")) {
      current = undefined;
      continue;
    }
    current.text += `\n${line}`;
    const at = /^\s*--> (.*)$/.exec(line);
    if (at && current.location === "") {
      const path = at[1].replace(/^file:\/\//, "");
      current.location = path.startsWith(root) ? path.slice(root.length) : path;
    }
  }
  for (const p of problems) p.text = p.text.trimEnd();
  return problems;
}

/**
 * The entry of `pending` a problem falls under, if any.
 *
 * @example
 * ```ts
 * import { pendingEntry } from "./doc_lint.ts";
 * const pending = [{ path: "lib/log/", why: "being rewritten" }];
 * const problem = { kind: "missing-jsdoc", message: "", location: "lib/log/mod.ts:3:1", text: "" };
 * console.log(pendingEntry(problem, pending)?.why); // "being rewritten"
 * ```
 */
export function pendingEntry(
  problem: DocProblem,
  pending: readonly Pending[],
): Pending | undefined {
  return pending.find((p) =>
    problem.location.startsWith(p.path) && (p.kind === undefined || p.kind === problem.kind)
  );
}

/**
 * Whether a problem lies outside the repository: `deno doc --lint` also lints the declarations of
 * an npm type once an entry re-exports it (e.g. proto's `GenMessage`), and reports the npm
 * package's own unexported helpers (`brandv2`) it refers to, which no change here can make public.
 *
 * @example
 * ```ts
 * import { isOutside } from "./doc_lint.ts";
 * console.log(isOutside({ kind: "", message: "", text: "", location: "/root/.cache/x.d.ts:1:1" }));
 * // true
 * ```
 */
export function isOutside(problem: DocProblem): boolean {
  return problem.location.startsWith("/");
}

/**
 * The entry files of a member's `exports` (a string or a map of them), relative to the root.
 *
 * @example
 * ```ts
 * import { exportFiles } from "./doc_lint.ts";
 * console.log(exportFiles("./lib", { "./db": "./db/mod.ts" })); // ["lib/db/mod.ts"]
 * ```
 */
export function exportFiles(member: string, exports: unknown): string[] {
  const dir = member.replace(/^\.\//, "").replace(/\/$/, "");
  const targets = typeof exports === "string"
    ? [exports]
    : exports && typeof exports === "object"
    ? Object.values(exports).filter((v): v is string => typeof v === "string")
    : [];
  return targets.map((t) => `${dir}/${t.replace(/^\.\//, "")}`);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function lintMember(root: string, files: string[]): Promise<{
  problems: DocProblem[];
  failedWithout: string | undefined;
}> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...files],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const output = dec.decode(result.stdout) + dec.decode(result.stderr);
  const problems = parseDocLint(output, root);
  // deno doc failing for another reason (a file that does not resolve, a syntax error).
  const failedWithout = !result.success && problems.length === 0 ? output : undefined;
  return { problems, failedWithout };
}

async function main(args: string[]): Promise<number> {
  const root = new URL("../", import.meta.url).pathname;
  const all = args.includes("--all");
  const verbose = args.includes("--verbose");
  const only = args.filter((a) => !a.startsWith("--")).map((a) => a.replace(/^\.\//, ""));
  const pending = all ? [] : PENDING;
  const workspace = (await readJson(`${root}deno.json`)).workspace as string[];
  let failing = 0;
  for (const member of workspace) {
    const name = member.replace(/^\.\//, "");
    if (only.length > 0 && !only.includes(name)) continue;
    const config = await readJson(`${root}${name}/deno.json`);
    const files = exportFiles(member, config.exports);
    if (files.length === 0) continue;
    const { problems, failedWithout } = await lintMember(root, files);
    if (failedWithout !== undefined) {
      console.error(`${name}: deno doc --lint failed:\n${failedWithout}`);
      failing++;
      continue;
    }
    const outside = problems.filter(isOutside);
    const ours = problems.filter((p) => !isOutside(p));
    const blocking = ours.filter((p) => pendingEntry(p, pending) === undefined);
    const waiting = ours.filter((p) => pendingEntry(p, pending) !== undefined);
    for (const p of verbose ? problems : blocking) console.error(`${p.text}\n`);
    const notes = [];
    if (waiting.length > 0) notes.push(`${waiting.length} pending: ${summary(waiting, pending)}`);
    if (outside.length > 0) notes.push(`${outside.length} in npm declarations`);
    console.log(
      `${name}: ${blocking.length} problem(s)` + (notes.length ? ` (${notes.join("; ")})` : ""),
    );
    if (blocking.length > 0) failing++;
  }
  if (failing > 0) {
    console.error(`deno doc --lint: ${failing} member(s) with problems`);
    return 1;
  }
  return 0;
}

function summary(problems: DocProblem[], pending: readonly Pending[]): string {
  const counts = new Map<Pending, number>();
  for (const p of problems) {
    const entry = pendingEntry(p, pending)!;
    counts.set(entry, (counts.get(entry) ?? 0) + 1);
  }
  return [...counts].map(([e, n]) => `${e.path}${e.kind ? ` ${e.kind}` : ""} ${n} (${e.why})`)
    .join(", ");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
