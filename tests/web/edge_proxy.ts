/**
 * The compose edge proxy (deploy/nginx/edge.conf) run by a real nginx in front of the test
 * platform: the file as shipped, with the Docker service names replaced by the test's addresses
 * and the listening ports by free ones, so the browser can use the web app and the RPCs on one
 * origin exactly as behind `docker compose`.
 *
 * @module
 */
import {
  freePort,
  spawnTracked,
  type TrackedProcess,
  trackedTempDir,
  waitUntil,
} from "../harness/processes.ts";

const EDGE_CONF = new URL("../../deploy/nginx/edge.conf", import.meta.url);

/** What the proxy forwards to, by the names edge.conf uses. */
export interface EdgeUpstreams {
  userservice: number;
  taskservice: number;
  orchestrator: number;
  web: number;
}

/** A running nginx with edge.conf. */
export class EdgeProxy {
  private constructor(
    readonly process: TrackedProcess,
    readonly port: number,
    /** The proxy's port for each of the published ports 50051-50053 ("50051" → a free port). */
    readonly servicePorts: Readonly<Record<string, number>>,
  ) {}

  /**
   * Starts nginx; resolves when the web app's port answers.
   *
   * @example
   * ```ts
   * const edge = await EdgeProxy.start({ userservice: 5001, taskservice: 5002, orchestrator: 5003, web: 8081 });
   * await fetch(`${edge.url}/services/users/health`);
   * ```
   */
  static async start(upstreams: EdgeUpstreams): Promise<EdgeProxy> {
    const dir = await trackedTempDir("fp-edge-");
    const webPort = freePort();
    let conf = await Deno.readTextFile(EDGE_CONF);
    conf = conf.replace(/^resolver .*$/m, "# resolver: upstreams are IP addresses here");
    for (const [name, port] of Object.entries(upstreams)) {
      conf = conf.replaceAll(new RegExp(`http://${name}:\\d+;`, "g"), `http://127.0.0.1:${port};`);
    }
    conf = conf.replace(/listen 8080;/, `listen 127.0.0.1:${webPort};`);
    const servicePorts: Record<string, number> = {};
    conf = conf.replace(/listen (5005\d);/g, (_, published: string) => {
      servicePorts[published] = freePort();
      return `listen 127.0.0.1:${servicePorts[published]};`;
    });
    await Deno.writeTextFile(`${dir}/edge.conf`, conf);
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      [
        "daemon off;",
        "master_process off;",
        `error_log ${dir}/error.log warn;`,
        `pid ${dir}/nginx.pid;`,
        "events {}",
        "http {",
        "  access_log off;",
        `  client_body_temp_path ${dir}/body;`,
        `  proxy_temp_path ${dir}/proxy;`,
        `  include ${dir}/edge.conf;`,
        "}",
        "",
      ].join("\n"),
    );
    const process = spawnTracked("nginx", { args: ["-c", `${dir}/nginx.conf`, "-p", dir] });
    const edge = new EdgeProxy(process, webPort, servicePorts);
    await waitUntil(
      async () => {
        const res = await fetch(`${edge.url}/livez`);
        await res.body?.cancel();
        if (!res.ok) throw new Error(`edge answered ${res.status}`);
      },
      15_000,
      "nginx edge proxy",
    );
    return edge;
  }

  /** The web app's origin behind the proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops nginx. */
  async stop(): Promise<void> {
    this.process.kill("SIGTERM");
    await this.process.status;
  }
}
