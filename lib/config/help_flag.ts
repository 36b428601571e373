/**
 * `--help` for the platform's programs: usage on stdout and exit 0, before anything starts.
 *
 * @module
 */

/**
 * Prints `usage` and exits 0 when the arguments ask for help (`--help` or `-h`); otherwise
 * returns and the program goes on.
 *
 * @example
 * ```ts
 * exitOnHelp("Usage: deno task bench:write\n...");
 * ```
 */
export function exitOnHelp(usage: string, args: readonly string[] = Deno.args): void {
  if (!args.includes("--help") && !args.includes("-h")) return;
  console.log(usage);
  Deno.exit(0);
}

/**
 * The usage of a service's start task: it takes no arguments, only environment variables.
 *
 * @example
 * ```ts
 * exitOnHelp(serviceUsage("start:users", "the User Service", 50051));
 * ```
 */
export function serviceUsage(task: string, what: string, port: number): string {
  return `Usage: deno task ${task}

Starts ${what} on PORT (default ${port}); it takes no arguments. Configuration comes from the
environment: DATABASE_URL, NATS_URL, REDIS_URL, JWT_SECRETS, LOG_LEVEL, CORS_ORIGINS, HOST, ...
(README.md, "Configuration"). SIGTERM or Ctrl-C drains it and stops it.
Everything at once, with its dependencies: deno task start.`;
}

/**
 * A program's usage from its own module comment (the first `/** ... *\/` of the file), so the
 * usage `--help` prints and the documentation in the source are one text.
 *
 * @example
 * ```ts
 * exitOnHelp(moduleDoc(import.meta.url));
 * ```
 */
export function moduleDoc(moduleUrl: string): string {
  const source = Deno.readTextFileSync(new URL(moduleUrl));
  const block = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
  return block.split("\n").map((line) => line.replace(/^\s*\* ?/, "")).filter((line) =>
    !line.startsWith("@module")
  ).join("\n").trim();
}
