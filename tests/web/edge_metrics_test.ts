/**
 * The compose edge (deploy/nginx/edge.conf, run by a real nginx) keeps `/metrics` from the public:
 * through the edge only loopback may read it (Prometheus scrapes the replicas directly), while
 * health, liveness and the RPCs stay open. A second loopback address (127.0.0.2, through curl's
 * --interface) stands in for a client from outside.
 */
import assert from "node:assert/strict";
import { freePort } from "../harness/processes.ts";
import { EdgeProxy } from "./edge_proxy.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** An upstream that answers with the path it was asked for. */
function upstream(name: string) {
  const port = freePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    (req) => new Response(`${name} ${new URL(req.url).pathname}`),
  );
  return { port, server };
}

const ups = {
  userservice: upstream("users"),
  taskservice: upstream("tasks"),
  orchestrator: upstream("orchestrator"),
  web: upstream("web"),
};
const edge = await EdgeProxy.start({
  userservice: ups.userservice.port,
  taskservice: ups.taskservice.port,
  orchestrator: ups.orchestrator.port,
  web: ups.web.port,
});

/** GET through curl from `source`; returns the status and the body. */
async function get(url: string, source: string): Promise<{ status: number; body: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "--interface", source, "-w", "\n%{http_code}", url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

const urls = () => ({
  page: `${edge.url}/services/users/metrics`,
  published: `http://127.0.0.1:${edge.servicePorts["50051"]}/metrics`,
  orchestrator: `http://127.0.0.1:${edge.servicePorts["50053"]}/metrics`,
});

Deno.test(
  "from outside, /metrics through the edge is 403; health and RPCs still pass",
  opts,
  async () => {
    for (const url of Object.values(urls())) {
      assert.equal((await get(url, "127.0.0.2")).status, 403, url);
    }
    assert.deepEqual(await get(`${edge.url}/services/tasks/health`, "127.0.0.2"), {
      status: 200,
      body: "tasks /health",
    });
    const rpc = await get(
      `http://127.0.0.1:${edge.servicePorts["50051"]}/platform.users.v1.UserService/Login`,
      "127.0.0.2",
    );
    assert.equal(rpc.status, 200);
    // Spellings that normalise to /metrics are refused as well.
    for (const path of ["//metrics", "/%6Detrics", "/./metrics"]) {
      const url = `http://127.0.0.1:${edge.servicePorts["50052"]}${path}`;
      assert.equal((await get(url, "127.0.0.2")).status, 403, path);
    }
  },
);

Deno.test(
  "from loopback inside the edge's host, /metrics passes to the service",
  opts,
  async () => {
    const { page, published, orchestrator } = urls();
    assert.deepEqual(await get(page, "127.0.0.1"), { status: 200, body: "users /metrics" });
    assert.deepEqual(await get(published, "127.0.0.1"), { status: 200, body: "users /metrics" });
    assert.deepEqual(await get(orchestrator, "127.0.0.1"), {
      status: 200,
      body: "orchestrator /metrics",
    });
  },
);

Deno.test("stop", opts, async () => {
  await edge.stop();
  await Promise.all(Object.values(ups).map((u) => u.server.shutdown()));
});
