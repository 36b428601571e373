/**
 * A small Dockerfile reader: instructions with their continuation lines joined, comments and
 * blank lines dropped. Enough to check what a Dockerfile does without a Docker engine.
 *
 * @module
 */

/** One instruction, e.g. `{ keyword: "RUN", args: "deno install --frozen" }`. */
export interface Instruction {
  keyword: string;
  args: string;
}

/**
 * Parses a Dockerfile into its instructions, in order.
 *
 * @example
 * ```ts
 * parseDockerfile("FROM x\nRUN a \\\n  b\n"); // [{keyword:"FROM",args:"x"},{keyword:"RUN",args:"a b"}]
 * ```
 */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (pending !== "" && line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1).trim() + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const space = full.search(/\s/);
    instructions.push({
      keyword: full.slice(0, space).toUpperCase(),
      args: full.slice(space + 1).trim(),
    });
  }
  if (pending !== "") throw new Error("Dockerfile ends inside a continued line");
  return instructions;
}

/**
 * The JSON (exec) form of an instruction's command, e.g. HEALTHCHECK's `CMD [...]`.
 *
 * @example
 * ```ts
 * execForm('--interval=5s CMD ["deno", "eval", "1"]'); // ["deno", "eval", "1"]
 * ```
 */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const value = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`not an exec-form command: ${args}`);
  }
  return value;
}
