/**
 * Where the deployment files live, resolved from this module so tests run from any directory.
 *
 * @module
 */

/** The repository root. */
export const REPO_ROOT: URL = new URL("../../", import.meta.url);

/** `deploy/` in the repository. */
export const DEPLOY_DIR: URL = new URL("../", import.meta.url);

/**
 * The shared folder beside the repository (`../shared` from the root), which holds the Compose
 * JSON Schema. CI checks it out there too.
 */
export const SHARED_DIR: URL = new URL("../shared/", REPO_ROOT);

/**
 * A path relative to the repository root, as a file URL.
 *
 * @example
 * ```ts
 * const compose = repoFile("compose.yaml");
 * ```
 */
export function repoFile(relative: string): URL {
  return new URL(relative, REPO_ROOT);
}

/**
 * Reads a text file, failing with a message that names the missing file and why it is needed.
 *
 * @example
 * ```ts
 * const text = await readRequired(repoFile("compose.yaml"), "the compose file under test");
 * ```
 */
export async function readRequired(file: URL, purpose: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`missing ${file.pathname} (${purpose})`);
    }
    throw error;
  }
}

/**
 * The names of the entries of a directory that end with one of the suffixes, sorted.
 *
 * @example
 * ```ts
 * const manifests = await listFiles(new URL("k8s/", DEPLOY_DIR), [".yaml"]);
 * ```
 */
export async function listFiles(dir: URL, suffixes: readonly string[]): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && suffixes.some((suffix) => entry.name.endsWith(suffix))) {
      names.push(entry.name);
    }
  }
  return names.sort();
}
