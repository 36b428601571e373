/**
 * The path of a request URL without parsing the whole URL: `Deno.serve` hands every request an
 * absolute URL ("http://host:port/path?query"), and the RPC routes need only the path.
 *
 * @module
 */

/**
 * The raw path of an absolute URL (no query). Unlike `new URL(url).pathname` it does not
 * normalise dot segments or escapes; callers fall back to `URL` for paths it does not route.
 *
 * @example
 * ```ts
 * requestPath("http://127.0.0.1:50051/platform.users.v1.UserService/GetUser?x=1");
 * // "/platform.users.v1.UserService/GetUser"
 * ```
 */
export function requestPath(url: string): string {
  const authority = url.indexOf("//");
  const start = url.indexOf("/", authority < 0 ? 0 : authority + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  let end = url.length;
  if (query >= 0) end = query;
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}
