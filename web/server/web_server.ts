/**
 * The web app's HTTP handler: the page, its script and styles, `GET /config.json` (where the page
 * finds the services) and `GET /livez`. Everything is held in memory; responses carry an ETag
 * and the headers that keep the page from being framed or sniffed.
 *
 * @module
 */
import type { ServiceName } from "../src/endpoints.ts";
import type { BundledApp } from "./bundle.ts";
import { endpointsFor, type WebConfig } from "./web_config.ts";

/** What the handler serves. */
export interface WebAssets {
  app: BundledApp;
  indexHtml: string;
  stylesCss: string;
}

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

/**
 * Reads `web/static/` (index.html, styles.css) into memory.
 *
 * @example
 * ```ts
 * const assets = { app: await bundleInMemory(), ...await readStaticFiles() };
 * ```
 */
export async function readStaticFiles(): Promise<{ indexHtml: string; stylesCss: string }> {
  const dir = new URL("../static/", import.meta.url);
  return {
    indexHtml: await Deno.readTextFile(new URL("index.html", dir)),
    stylesCss: await Deno.readTextFile(new URL("styles.css", dir)),
  };
}

/**
 * Builds the handler.
 *
 * @example
 * ```ts
 * Deno.serve({ port: config.port }, await createWebHandler(config, assets));
 * ```
 */
export async function createWebHandler(
  config: WebConfig,
  assets: WebAssets,
): Promise<(req: Request) => Response> {
  const encoder = new TextEncoder();
  const files = new Map<string, Asset>();
  const add = async (path: string, body: Uint8Array, type: string) => {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>),
    );
    const etag = `"${
      [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("")
    }"`;
    files.set(path, { body, type, etag });
  };
  await add("/", encoder.encode(assets.indexHtml), "text/html; charset=utf-8");
  await add("/app.js", assets.app.script, "text/javascript; charset=utf-8");
  if (assets.app.sourceMap) {
    await add("/app.js.map", assets.app.sourceMap, "application/json; charset=utf-8");
  }
  await add("/styles.css", encoder.encode(assets.stylesCss), "text/css; charset=utf-8");
  files.set("/index.html", files.get("/")!);

  const csp = contentSecurityPolicy(config);
  const configJson = JSON.stringify(endpointsFor(config));
  return (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      // Deno builds req.url from the Host header: a malformed one is the client's mistake.
      return new Response("bad request: malformed Host header\n", {
        status: 400,
        headers: { "content-type": "text/plain; charset=utf-8", connection: "close" },
      });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    // Bundled before the port opened: alive is ready (Kubernetes' readinessProbe asks /readyz).
    if (url.pathname === "/livez") return Response.json({ status: "alive" });
    if (url.pathname === "/readyz") return Response.json({ status: "ready" });
    if (url.pathname === "/config.json") {
      return new Response(configJson, {
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      });
    }
    const asset = files.get(url.pathname);
    if (!asset) {
      return new Response(`not found: ${url.pathname}; the app is at /\n`, {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    const headers = new Headers({
      "content-type": asset.type,
      etag: asset.etag,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    if (asset.type.startsWith("text/html")) {
      headers.set("content-security-policy", csp);
      headers.set("x-frame-options", "DENY");
    }
    if (req.headers.get("if-none-match") === asset.etag) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(
      req.method === "HEAD" ? null : asset.body as Uint8Array<ArrayBuffer>,
      { headers },
    );
  };
}

/**
 * The page may load its own script and styles only, and call only itself and the services. Made
 * from the configuration alone, never from the request's Host: a service on the page's own host
 * (`:port`, the default) is allowed on that port of any host (`*:port`), since the host the person
 * typed is not known here; fix it with `WEB_*_URL`.
 *
 * @example
 * ```ts
 * contentSecurityPolicy(loadWebConfig({}));
 * // "default-src 'self'; connect-src 'self' *:50051 *:50052 *:50053; ..."
 * ```
 */
export function contentSecurityPolicy(config: WebConfig): string {
  const endpoints = endpointsFor(config);
  const origins = new Set<string>();
  for (const name of Object.keys(endpoints.services) as ServiceName[]) {
    for (const url of [endpoints.services[name].rpc, endpoints.services[name].http]) {
      if (/^:\d+$/.test(url)) origins.add(`*${url}`);
      else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) origins.add(new URL(url).origin);
    }
  }
  return [
    "default-src 'self'",
    `connect-src 'self' ${[...origins].join(" ")}`.trim(),
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join("; ");
}
