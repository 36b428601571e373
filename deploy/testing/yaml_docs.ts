/**
 * Strict YAML loading for deployment files: every document of a multi-document file, with
 * `<<` merge keys resolved (compose.yaml uses them), and any syntax error or warning fatal.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";

/** A parsed YAML mapping. */
export type YamlMap = Record<string, unknown>;

/**
 * Parses every document of a YAML text. Empty documents (a trailing `---`) are dropped.
 *
 * @example
 * ```ts
 * const [doc] = parseYamlDocuments("a: 1\n", "inline");
 * ```
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text, { merge: true, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const values: unknown[] = [];
  for (const doc of list) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`${source}: ${problems.map((p) => p.message).join("\n")}`);
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) values.push(value);
  }
  return values;
}

/**
 * Parses a single-document YAML text into a mapping.
 *
 * @example
 * ```ts
 * const compose = parseYamlMap("services: {}\n", "compose.yaml");
 * ```
 */
export function parseYamlMap(text: string, source: string): YamlMap {
  const docs = parseYamlDocuments(text, source);
  if (docs.length !== 1 || !isMap(docs[0])) {
    throw new Error(`${source}: expected exactly one YAML mapping, found ${docs.length} documents`);
  }
  return docs[0];
}

/**
 * True for a plain mapping (not null, not an array).
 *
 * @example
 * ```ts
 * isMap({ a: 1 }); // true
 * ```
 */
export function isMap(value: unknown): value is YamlMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Follows a path of keys and indexes; undefined when any step is missing.
 *
 * @example
 * ```ts
 * at({ a: [{ b: 2 }] }, "a", 0, "b"); // 2
 * ```
 */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isMap(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}
