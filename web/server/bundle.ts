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
 * Writes the bundle to `outFile`, minified; with `sourceMap`, a linked source map next to it
 * (development only: it hands anyone the page's whole source, comments included).
 *
 * @example
 * ```ts
 * await bundleWebApp("web/dist/app.js", { sourceMap: false });
 * ```
 */
export async function bundleWebApp(
  outFile: string,
  options: { sourceMap: boolean } = { sourceMap: false },
): Promise<void> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--frozen",
      "--platform",
      "browser",
      "--minify",
      ...(options.sourceMap ? ["--sourcemap", "linked"] : []),
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
 * server whose code is read-only (the container image) can still bundle at start. A source map
 * only with `sourceMap` (WEB_SOURCE_MAPS, off by default).
 *
 * @example
 * ```ts
 * const { script } = await bundleInMemory({ sourceMap: false });
 * ```
 */
export async function bundleInMemory(
  options: { sourceMap: boolean } = { sourceMap: false },
): Promise<BundledApp> {
  const dir = await Deno.makeTempDir({ prefix: "fp-web-" });
  try {
    await bundleWebApp(`${dir}/app.js`, options);
    const script = await Deno.readFile(`${dir}/app.js`);
    const sourceMap = options.sourceMap
      ? await Deno.readFile(`${dir}/app.js.map`).catch(() => undefined)
      : undefined;
    return { script, sourceMap };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
