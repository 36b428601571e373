/**
 * Typed, validated reading of environment variables. Every parser names the variable in its error,
 * so a bad value stops the process at start with a message an operator can act on.
 *
 * @module
 */

/** A variable is missing or its value cannot be used. */
export class ConfigError extends Error {
  /**
   * Creates the error; its message names the variable (and the value, when given).
   *
   * @param variable The variable's name, e.g. `PORT`.
   * @param problem What is wrong, e.g. `must be an integer from 0 to 65535`.
   * @param value The value read, when there is one.
   *
   * @example
   * ```ts
   * const error = new ConfigError("PORT", "must be an integer from 0 to 65535", "abc");
   * ```
   */
  constructor(readonly variable: string, readonly problem: string, value?: string) {
    super(
      value === undefined
        ? `${variable} ${problem}`
        : `${variable}=${JSON.stringify(value)} is invalid: ${problem}`,
    );
    this.name = "ConfigError";
  }
}

/** Where variables come from: `Deno.env.toObject()` in production, a plain object in tests. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * Reads variables from an {@link EnvSource}, with defaults and validation.
 *
 * @example
 * ```ts
 * const env = new EnvReader({ PORT: "8080" });
 * env.int("PORT", 50051, { min: 0, max: 65535 }); // 8080
 * ```
 */
export class EnvReader {
  /** Creates a reader of `source`, e.g. `Deno.env.toObject()`. */
  constructor(private readonly source: EnvSource) {}

  /** The raw value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.source[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  /** A string, or the fallback when unset. */
  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** An integer within bounds. */
  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
    const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(value)) {
      throw new ConfigError(name, `must be an integer from ${min} to ${max}`, value);
    }
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      throw new ConfigError(name, `must be an integer from ${min} to ${max}`, value);
    }
    return parsed;
  }

  /** A non-negative number, such as a weight. */
  number(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    const min = bounds.min ?? -Infinity;
    const max = bounds.max ?? Infinity;
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(name, `must be a number from ${min} to ${max}`, value);
    }
    return parsed;
  }

  /** A URL whose scheme is one of the allowed ones. */
  url(name: string, fallback: string, schemes: readonly string[]): string {
    const value = this.raw(name) ?? fallback;
    checkUrl(name, value, schemes);
    return value;
  }

  /**
   * A comma-separated list of URLs (the servers of a cluster), each with one of the allowed
   * schemes; returned as given, trimmed.
   *
   * @example
   * ```ts
   * new EnvReader({ NATS_URL: "nats://a:4222, nats://b:4222" })
   *   .urlList("NATS_URL", "nats://127.0.0.1:4222", ["nats"]); // "nats://a:4222,nats://b:4222"
   * ```
   */
  urlList(name: string, fallback: string, schemes: readonly string[]): string {
    const value = this.raw(name) ?? fallback;
    const items = value.split(",").map((item) => item.trim());
    if (items.includes("")) {
      throw new ConfigError(name, "must not hold an empty item", redactUrl(value));
    }
    for (const item of items) checkUrl(name, item, schemes);
    return items.join(",");
  }

  /** A comma-separated list, trimmed, empty items dropped. */
  list(name: string, fallback: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `must be one of ${allowed.join(", ")}`, value);
    }
    return value as T;
  }

  /** A boolean written as true/false/1/0/yes/no. */
  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["true", "1", "yes"].includes(value)) return true;
    if (["false", "0", "no"].includes(value)) return false;
    throw new ConfigError(name, "must be true or false", value);
  }
}

function checkUrl(name: string, value: string, schemes: readonly string[]): void {
  // A value that is refused is shown only as its scheme: whatever follows may be a password
  // that holds `@`, `#`, `/` or `:` (no shape of it can be told apart from a host).
  const shown = maskedUrl(value);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL (${schemes.join(", ")})`, shown);
  }
  if (!schemes.includes(parsed.protocol.replace(/:$/, ""))) {
    throw new ConfigError(name, `must use one of the schemes ${schemes.join(", ")}`, shown);
  }
  const problem = urlShapeProblem(value, parsed);
  if (problem) throw new ConfigError(name, problem, shown);
}

/**
 * What makes a parsable URL ambiguous: a fragment, a second `@`, a host that is no host name.
 * Each is how a password with an unencoded `#`, `@` or `/` parses, with part of it as the host.
 */
function urlShapeProblem(value: string, url: URL): string | undefined {
  const encode = "; percent-encode such characters in a user name or password (# as %23, @ as " +
    "%40, / as %2F)";
  if (value.includes("#")) return "must not hold a # (a URL fragment)" + encode;
  if (value.split("@").length > 2) return "must not hold more than one @" + encode;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host !== "" && !HOST_NAME.test(host) && !host.includes(":")) {
    return "must name a valid host" + encode;
  }
  return undefined;
}

/** DNS names and IPv4 addresses: labels of letters, digits, `-` and `_`, none empty. */
const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/** `postgres://…` → `postgres://***`; a value without a scheme → `***`. */
function maskedUrl(value: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  return scheme ? `${scheme[1]}://***` : "***";
}

/**
 * Hides the credentials of a URL (or of each URL in a comma-separated list) so that it can be
 * logged or shown in an error: the password, a username that stands alone (a NATS token), and
 * password or token query parameters. A value that is not a clean URL with an authority
 * (malformed, without `scheme://`, with a fragment, a second `@` or a host that is no host name:
 * the shapes of a password holding `#`, `@` or `/`) is shown as its scheme only, so no part of a
 * password survives whatever its shape.
 *
 * @example
 * ```ts
 * redactUrl("postgres://app:hunter2@db/x"); // "postgres://app:***@db/x"
 * redactUrl("nats://s3cr3t@nats:4222"); // "nats://***@nats:4222"
 * redactUrl("default:hunter2@redis:6379"); // "***"
 * redactUrl("postgres://u:p@ss#frag@host/db"); // "postgres://***"
 * ```
 */
export function redactUrl(value: string): string {
  // A list of URLs: split only where the next URL starts (a password may hold a comma).
  const parts = value.split(/,\s*(?=[a-z][a-z0-9+.-]*:\/\/)/i);
  if (parts.length > 1) return parts.map(redactUrl).join(",");
  try {
    const url = new URL(value);
    const clean = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) && url.host !== "" &&
      urlShapeProblem(value, url) === undefined;
    if (clean) {
      if (url.password) url.password = "***";
      else if (url.username) url.username = "***";
      for (const key of [...url.searchParams.keys()]) {
        if (SECRET_PARAM.test(key)) url.searchParams.set(key, "***");
      }
      return url.toString();
    }
  } catch { /* not a URL: masked below */ }
  return maskedUrl(value);
}

const SECRET_PARAM = /pass|token|secret|key/i;
