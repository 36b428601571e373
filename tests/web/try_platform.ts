/**
 * Runs the browser tests' platform until Ctrl-C, for trying the web app by hand against
 * throwaway servers: `deno run -A tests/web/try_platform.ts`, then open the URL it prints.
 *
 * @module
 */
import { WebPlatform } from "./web_env.ts";

const platform = await WebPlatform.start();
console.log(`web app: ${platform.webUrl}/`);
for (const service of ["users", "tasks", "orchestrator"] as const) {
  console.log(`${service}: ${platform.url(service)}`);
}
const stop = async () => {
  await platform.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
