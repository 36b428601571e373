/**
 * The web app's server (`deno task start:web`, port `WEB_PORT`, 8080): bundles the page at start
 * and serves it with `/config.json`, which tells the page where the services are.
 *
 * @module
 */
import { exitOnHelp } from "@platform/lib/config";
import { Logger } from "@platform/lib/log";
import { bundleInMemory } from "./server/bundle.ts";
import { loadWebConfig } from "./server/web_config.ts";
import { createWebHandler, readStaticFiles } from "./server/web_server.ts";

exitOnHelp(`Usage: deno task start:web

Serves the web app on WEB_PORT (8080), bundling the page at start; it takes no arguments. The page
finds the services at WEB_USERS_URL, WEB_TASKS_URL, WEB_ORCHESTRATOR_URL (default: their ports,
USERS_PORT etc., on the host the page was opened on); WEB_SAME_ORIGIN=true behind the edge proxy;
WEB_REFRESH_SECONDS (30) is the safety-net reload. See README.md, "The web app".`);
const logger = new Logger("web");
try {
  const config = loadWebConfig();
  const started = performance.now();
  const app = await bundleInMemory({ sourceMap: config.sourceMaps });
  logger.info("bundled", {
    bytes: app.script.length,
    source_map: app.sourceMap !== undefined,
    ms: Math.round(performance.now() - started),
  });
  const handler = await createWebHandler(config, { app, ...await readStaticFiles() });
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: () => {},
  }, handler);
  const port = (server.addr as Deno.NetAddr).port;
  logger.info("listening", {
    port,
    url: `http://localhost:${port}/`,
    same_origin: config.sameOrigin,
  });
  const stop = () => {
    logger.info("shutting down");
    server.shutdown().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
} catch (error) {
  logger.error("failed to start", { error });
  Deno.exit(1);
}
