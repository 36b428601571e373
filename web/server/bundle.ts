/**
 * Bundles the page (`web/src/main.tsx`, Preact, `@platform/client`, the generated protobuf code)
 * into one browser script with `deno bundle`, the same way for `deno task web:build` and for the
 * web server, which bundles at start and serves the script from memory.
 *
 * @module
 */

const entry = new URL("../src/main.tsx", import.meta.url);

/** Bundling failed; the message carries `deno bundle`'s output. */
export class BundleError extends Error {
  /** @example `throw new BundleError("deno bundle failed: ...")` */
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

/**
 * Writes the bundle to `outFile` (minified, with a linked source map next to it).
 *
 * @example
 * ```ts
 * await bundleWebApp("web/dist/app.js");
 * ```
 */
export async function bundleWebApp(outFile: string): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--frozen",
      "--platform",
      "browser",
      "--minify",
      "--sourcemap",
      "linked",
      "-o",
      outFile,
      entry.pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!result.success) {
    const output = new TextDecoder().decode(result.stderr) +
      new TextDecoder().decode(result.stdout);
    throw new BundleError(`deno bundle ${entry.pathname} failed:\n${output.trim()}`);
  }
}

/** The bundled script and its source map, in memory. */
export interface BundledApp {
  script: Uint8Array;
  sourceMap?: Uint8Array;
}

/**
 * Bundles into a temporary folder and returns the files' contents (the folder is removed), so a
 * server whose code is read-only (the container image) can still bundle at start.
 *
 * @example
 * ```ts
 * const { script } = await bundleInMemory();
 * ```
 */
export async function bundleInMemory(): Promise<BundledApp> {
  const dir = await Deno.makeTempDir({ prefix: "fp-web-" });
  try {
    await bundleWebApp(`${dir}/app.js`);
    const script = await Deno.readFile(`${dir}/app.js`);
    const sourceMap = await Deno.readFile(`${dir}/app.js.map`).catch(() => undefined);
    return { script, sourceMap };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
