/**
 * Which browser origins may call a service (`CORS_ORIGINS`), read once at start.
 *
 * @module
 */
import { ConfigError, EnvReader, type EnvSource } from "./env.ts";

/** The web app's port under `deno task start` (`WEB_PORT`). */
export const DEFAULT_WEB_PORT = 8080;

/** Which origins may call from a browser. */
export interface CorsConfig {
  /**
   * Exact origins (`scheme://host[:port]`) allowed to call; their requests may carry credentials.
   * Empty: only same-origin pages (behind the edge proxy) and non-browser callers.
   */
  origins: string[];
  /** `CORS_ORIGINS=*`: any origin, never with credentials. */
  anyOrigin: boolean;
  /**
   * `CORS_TRUST_FORWARDED_HOST=true`: the same-origin check also accepts the `X-Forwarded-Host` a
   * proxy sets (for a proxy that passes its own upstream name as `Host`, nginx's default).
   */
  trustForwardedHost?: boolean;
}

/**
 * Reads `CORS_ORIGINS` (comma-separated origins, or `*`). Unset: in development (no
 * `JWT_SECRETS`, the same switch that enables the development secret) the web app's own origin,
 * `http://localhost:<WEB_PORT>` and `http://127.0.0.1:<WEB_PORT>`; in production nothing.
 * Throws {@link ConfigError} naming the variable on a value that is not an origin.
 *
 * @example
 * ```ts
 * loadCorsConfig({ CORS_ORIGINS: "https://app.example.com" }, false);
 * // { origins: ["https://app.example.com"], anyOrigin: false }
 * loadCorsConfig({}, true).origins; // ["http://localhost:8080", "http://127.0.0.1:8080"]
 * ```
 */
export function loadCorsConfig(source: EnvSource, development: boolean): CorsConfig {
  const env = new EnvReader(source);
  const webPort = env.int("WEB_PORT", DEFAULT_WEB_PORT, { min: 1, max: 65535 });
  const fallback = development
    ? [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`]
    : [];
  const listed = env.list("CORS_ORIGINS", fallback);
  const trustForwardedHost = env.bool("CORS_TRUST_FORWARDED_HOST", false);
  if (listed.includes("*")) {
    if (listed.length > 1) {
      throw new ConfigError(
        "CORS_ORIGINS",
        "is either * alone or a list of origins, not both",
        listed.join(","),
      );
    }
    return { origins: [], anyOrigin: true, trustForwardedHost };
  }
  return { origins: [...new Set(listed.map(parseOrigin))], anyOrigin: false, trustForwardedHost };
}

function parseOrigin(value: string): string {
  const problem = "must list origins such as https://app.example.com or http://localhost:8080 " +
    "(scheme, host and port only), or be *";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError("CORS_ORIGINS", problem, value);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError("CORS_ORIGINS", problem, value);
  }
  // An origin has no path, query, fragment or credentials; a trailing slash is forgiven.
  if (
    url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "" ||
    url.password !== "" || /[?#]/.test(value)
  ) {
    throw new ConfigError("CORS_ORIGINS", problem, value);
  }
  return url.origin;
}
