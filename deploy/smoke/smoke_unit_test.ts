/**
 * The smoke test's pure parts: which base images it needs (from the real compose.yaml and
 * Dockerfile), when a project counts as healthy, reading a replica's metrics, the timing table.
 * The smoke test itself runs as `deno task deploy:smoke` (its own CI step).
 */
import assert from "node:assert/strict";
import { baseImages } from "./base_images.ts";
import { settled } from "./compose.ts";
import { edgeUrls } from "./flow.ts";
import { handledGetUser } from "./replicas.ts";
import { judgeImageScan } from "./image_scan.ts";
import { formatTimings } from "./timings.ts";

const root = new URL("../../", import.meta.url);

Deno.test("the base images are compose's registry images and the Dockerfile's FROM", async () => {
  const images = baseImages(
    await Deno.readTextFile(new URL("compose.yaml", root)),
    await Deno.readTextFile(new URL("deploy/Dockerfile", root)),
  );
  const byStandIn = Object.fromEntries(images.map((i) => [i.standIn, i.image]));
  assert.match(byStandIn.deno, /^denoland\/deno:\d+\.\d+\.\d+$/);
  assert.equal(byStandIn.postgres, "postgres:15-alpine");
  for (
    const standIn of ["nats", "redis", "nginx", "postgres-exporter", "redis-exporter", "prometheus"]
  ) {
    assert.ok(byStandIn[standIn], `${standIn} stand-in`);
  }
  // cadvisor is behind a profile (not started by `up`); the app images are built, not pulled.
  assert.ok(!images.some((i) => i.image.includes("cadvisor")));
  assert.ok(!images.some((i) => i.image.startsWith("freelance-platform/")));
  // Every stand-in has its Dockerfile.
  for (const { standIn } of images) {
    await Deno.stat(new URL(`deploy/smoke/stand-ins/${standIn}/Dockerfile`, root));
  }
});

Deno.test("an image without a stand-in is a clear error", () => {
  assert.throws(
    () =>
      baseImages(
        "services:\n  x:\n    image: example.org/unknown:1\n",
        "FROM denoland/deno:2.9.6\n",
      ),
    /no stand-in for example\.org\/unknown:1/,
  );
});

Deno.test("healthy means every container up, and healthy where it has a healthcheck", () => {
  assert.deepEqual(
    settled([
      { id: "a", service: "nats", status: "Up 5 seconds (healthy)" },
      { id: "b", service: "edge", status: "Up 2 seconds" },
    ]),
    { ready: true, waiting: [] },
  );
  const waiting = settled([
    { id: "a", service: "postgres", status: "Up 3 seconds (health: starting)" },
    { id: "b", service: "userservice", status: "Exited (1) 2 seconds ago" },
    { id: "c", service: "redis", status: "Up 9 seconds (unhealthy)" },
  ]);
  assert.equal(waiting.ready, false);
  assert.equal(waiting.waiting.length, 3);
  assert.equal(settled([]).ready, false);
});

Deno.test("GetUser calls are summed over the codes of a replica's metrics", () => {
  const text = [
    "# TYPE grpc_server_handled_total counter",
    'grpc_server_handled_total{grpc_type="unary",grpc_service="platform.users.v1.UserService",grpc_method="GetUser",grpc_code="OK"} 7',
    'grpc_server_handled_total{grpc_type="unary",grpc_service="platform.users.v1.UserService",grpc_method="GetUser",grpc_code="NotFound"} 2',
    'grpc_server_handled_total{grpc_type="unary",grpc_service="platform.users.v1.UserService",grpc_method="Login",grpc_code="OK"} 5',
  ].join("\n");
  assert.equal(handledGetUser(text), 9);
  assert.equal(handledGetUser(""), 0);
});

Deno.test("the edge publishes the manual's ports", () => {
  assert.deepEqual(edgeUrls("10.0.0.2"), {
    users: "http://10.0.0.2:50051",
    tasks: "http://10.0.0.2:50052",
    orchestrator: "http://10.0.0.2:50053",
  });
});

Deno.test("step times print as a table with a total", () => {
  assert.equal(
    formatTimings([
      { name: "build", ms: 61_234, outcome: "ok" },
      { name: "compose up", ms: 30_000, outcome: "FAILED" },
    ]),
    "build        61.2 s  ok\ncompose up   30.0 s  FAILED\ntotal        91.2 s",
  );
});

Deno.test("the image scan fails the smoke only on the image's own files", () => {
  const report = (files: { subject: string; problem: string }[]) =>
    JSON.stringify({
      verdict: files.length ? "FINDINGS" : "INCOMPLETE",
      results: [
        { check: "npm", scope: "", outcome: "error", findings: [], reason: "405" },
        { check: "os", scope: "", outcome: "scanned", findings: [{ subject: "a", problem: "b" }] },
        { check: "files", scope: "/app", outcome: "scanned", findings: files },
        { check: "trivy", scope: "", outcome: "skipped", findings: [] },
      ],
    });
  const lines = judgeImageScan(1, report([]));
  assert.match(lines.join("\n"), /npm: error \(405\)/);
  assert.match(lines.join("\n"), /os: 1 finding\(s\)/);
  assert.throws(
    () => judgeImageScan(1, report([{ subject: "/app/x", problem: "SUID" }])),
    /files it must not have:\n {4}SUID: \/app\/x/,
  );
  assert.throws(() => judgeImageScan(1, "error: boom"), /printed no report/);
});
