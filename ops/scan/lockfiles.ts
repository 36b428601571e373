/**
 * The npm packages a lock file pins: `deno.lock` (its `npm` section) and npm's
 * `package-lock.json` (its `packages` section). Pure: text in, name and versions out.
 *
 * @module
 */

/** Package name to the versions pinned, and which lock file pins each. */
export type PinnedPackages = Map<string, Map<string, Set<string>>>;

/**
 * Adds a pin to the map.
 *
 * @example
 * ```ts
 * const pins: PinnedPackages = new Map();
 * addPin(pins, "jose", "6.2.18", "deno.lock");
 * ```
 */
export function addPin(pins: PinnedPackages, name: string, version: string, source: string): void {
  let versions = pins.get(name);
  if (!versions) pins.set(name, versions = new Map());
  let sources = versions.get(version);
  if (!sources) versions.set(version, sources = new Set());
  sources.add(source);
}

/**
 * The npm packages of a `deno.lock` (version 4 or 5): keys such as `@scope/name@1.2.3` or
 * `name@1.2.3_peer@4.5.6` (the peer suffix is dropped).
 *
 * @example
 * ```ts
 * denoLockPackages('{"version":"5","npm":{"jose@6.2.18":{}}}'); // [["jose", "6.2.18"]]
 * ```
 */
export function denoLockPackages(text: string): [string, string][] {
  const lock = JSON.parse(text) as { npm?: Record<string, unknown> };
  const out: [string, string][] = [];
  for (const key of Object.keys(lock.npm ?? {})) {
    const at = key.indexOf("@", 1);
    if (at < 0) continue;
    const version = key.slice(at + 1).split("_")[0];
    out.push([key.slice(0, at), version]);
  }
  return out;
}

/**
 * The packages of an npm `package-lock.json` (lockfileVersion 2 or 3); linked workspaces and the
 * root are left out.
 *
 * @example
 * ```ts
 * packageLockPackages('{"packages":{"":{},"node_modules/a":{"version":"1.0.0"}}}'); // [["a","1.0.0"]]
 * ```
 */
export function packageLockPackages(text: string): [string, string][] {
  const lock = JSON.parse(text) as {
    packages?: Record<string, { version?: string; name?: string; link?: boolean }>;
  };
  const out: [string, string][] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === "" || entry.link || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + 13);
    out.push([name, entry.version]);
  }
  return out;
}
