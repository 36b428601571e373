/**
 * `deno task web:build`: writes the page's static files to `web/dist/` (index.html, styles.css,
 * app.js; its source map only with `--sourcemap`, for development: a map hands anyone the page's
 * whole source) for hosting on any static file server. `deno task start:web` does not need it:
 * the web server bundles at start.
 *
 * @module
 */
import { exitOnHelp } from "@platform/lib/config";
import { bundleWebApp } from "./server/bundle.ts";

exitOnHelp(`Usage: deno task web:build

Writes the page's static files (index.html, styles.css, app.js, app.js.map) to web/dist/ for any
static file server; it takes no arguments. deno task start:web does not need it.`);

const dist = new URL("./dist/", import.meta.url);
const staticDir = new URL("./static/", import.meta.url);
await Deno.mkdir(dist, { recursive: true });
const sourceMap = Deno.args.includes("--sourcemap");
await Deno.remove(new URL("app.js.map", dist)).catch(() => {});
await bundleWebApp(new URL("app.js", dist).pathname, { sourceMap });
for (const name of ["index.html", "styles.css"]) {
  await Deno.copyFile(new URL(name, staticDir), new URL(name, dist));
}
console.log(
  `wrote ${dist.pathname}: index.html, styles.css, app.js${sourceMap ? ", app.js.map" : ""}`,
);
