/**
 * Running `promtool` (Debian's `prometheus` package ships it) from tests.
 *
 * @module
 */

/** What a promtool run printed and whether it succeeded. */
export interface PromtoolResult {
  success: boolean;
  output: string;
}

/** Thrown when promtool is not on PATH, with the way to install it. */
export class PromtoolMissing extends Error {
  constructor() {
    super(
      "promtool is not installed, so the alert rules cannot be checked. Install it with " +
        "`apt-get install -y prometheus` (Debian/Ubuntu) or put a Prometheus release's promtool " +
        "on PATH; CI installs it the same way.",
    );
    this.name = "PromtoolMissing";
  }
}

/**
 * Runs promtool with the arguments in a directory; stdout and stderr together in `output`.
 *
 * @example
 * ```ts
 * const { success, output } = await promtool(["check", "rules", "alerts.yml"], dir);
 * ```
 */
export async function promtool(args: string[], cwd: URL): Promise<PromtoolResult> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("promtool", { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new PromtoolMissing();
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    success: result.success,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}
