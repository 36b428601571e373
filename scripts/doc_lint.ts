/**
 * Runs `deno doc --lint` over the exports of every workspace member (read from the root
 * deno.json `workspace` list and each member's deno.json `exports`), in one run so that what one
 * member exports is public for the others, and exits non-zero when a member has documentation
 * problems. Prints one line per member with the count of problems located in its folder.
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
export const PENDING: readonly Pending[] = [];

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

async function docLint(root: string, files: string[]): Promise<{
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

/**
 * The member (its folder, e.g. `services/users`) a location belongs to: the longest folder that
 * contains it, `""` when none does.
 */
export function memberOf(location: string, members: readonly string[]): string {
  let best = "";
  for (const m of members) {
    if (location.startsWith(`${m}/`) && m.length > best.length) best = m;
  }
  return best;
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "Usage: deno task doc:lint [--all] [--verbose] [member ...]\n\n" +
        "deno doc --lint over every workspace member's exports (or the members named);\n" +
        "--all also fails on the known pending problems, --verbose lists every problem.",
    );
    return 0;
  }
  const root = new URL("../", import.meta.url).pathname;
  const all = args.includes("--all");
  const verbose = args.includes("--verbose");
  const only = args.filter((a) => !a.startsWith("--")).map((a) => a.replace(/^\.\/|\/$/g, ""));
  const pending = all ? [] : PENDING;
  const workspace = (await readJson(`${root}deno.json`)).workspace as string[];
  const members = workspace.map((m) => m.replace(/^\.\/|\/$/g, ""));
  const files: string[] = [];
  for (const member of members) {
    files.push(...exportFiles(member, (await readJson(`${root}${member}/deno.json`)).exports));
  }
  // One run over every member's exports: a type another member exports (a proto schema in
  // clients) counts as public, as it is for a consumer of the workspace.
  const { problems, failedWithout } = await docLint(root, files);
  if (failedWithout !== undefined) {
    console.error(`deno doc --lint failed:\n${failedWithout}`);
    return 1;
  }
  const outside = problems.filter(isOutside);
  let failing = 0;
  for (const name of [...members, ""]) {
    if (only.length > 0 && !only.includes(name)) continue;
    const ours = problems.filter((p) => !isOutside(p) && memberOf(p.location, members) === name);
    if (name === "" && ours.length === 0) continue;
    const blocking = ours.filter((p) => pendingEntry(p, pending) === undefined);
    const waiting = ours.filter((p) => pendingEntry(p, pending) !== undefined);
    for (const p of verbose ? ours : blocking) console.error(`${p.text}\n`);
    const note = waiting.length > 0
      ? ` (${waiting.length} pending: ${summary(waiting, pending)})`
      : "";
    console.log(`${name || "outside every member"}: ${blocking.length} problem(s)${note}`);
    if (blocking.length > 0) failing++;
  }
  if (outside.length > 0 && only.length === 0) {
    if (verbose) { for (const p of outside) console.error(`${p.text}\n`); }
    console.log(`npm declarations (not ours, never fail): ${outside.length} problem(s)`);
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
