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

  return (req) => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    // Bundled before the port opened: alive is ready (Kubernetes' readinessProbe asks /readyz).
    if (url.pathname === "/livez") return Response.json({ status: "alive" });
    if (url.pathname === "/readyz") return Response.json({ status: "ready" });
    if (url.pathname === "/config.json") {
      return Response.json(endpointsFor(config, url), {
        headers: { "cache-control": "no-store" },
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
      headers.set("content-security-policy", contentSecurityPolicy(config, url));
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
 * The page may load its own script and styles only, and call only itself and the services.
 *
 * @example
 * ```ts
 * contentSecurityPolicy(loadWebConfig({}), new URL("http://localhost:8080/"));
 * // "default-src 'self'; connect-src 'self' http://localhost:50051 ...; ..."
 * ```
 */
export function contentSecurityPolicy(config: WebConfig, pageUrl: URL): string {
  const endpoints = endpointsFor(config, pageUrl);
  const origins = new Set<string>();
  for (const name of Object.keys(endpoints.services) as ServiceName[]) {
    for (const url of [endpoints.services[name].rpc, endpoints.services[name].http]) {
      const origin = new URL(url || "/", pageUrl).origin;
      if (origin !== pageUrl.origin) origins.add(origin);
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
