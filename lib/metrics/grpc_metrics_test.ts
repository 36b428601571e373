import assert from "node:assert/strict";
import { Metrics } from "./registry.ts";

Deno.test("the gRPC families read as go-grpc-prometheus's", async () => {
  const metrics = new Metrics();
  const series = metrics.grpc.series("unary", "pkg.Svc", "Get");
  series.started += 2;
  series.finish("OK", 0.003, 1, 1);
  series.finish("NotFound", 0.2, 1, 0);
  const text = await metrics.registry.metrics();
  const labels = 'grpc_type="unary",grpc_service="pkg.Svc",grpc_method="Get"';
  assert.match(text, new RegExp(`grpc_server_started_total\\{${labels}\\} 2`));
  assert.match(text, new RegExp(`grpc_server_handled_total\\{${labels},grpc_code="OK"\\} 1`));
  assert.match(text, new RegExp(`grpc_server_handled_total\\{${labels},grpc_code="NotFound"\\} 1`));
  assert.match(text, new RegExp(`grpc_server_msg_received_total\\{${labels}\\} 2`));
  assert.match(text, new RegExp(`grpc_server_msg_sent_total\\{${labels}\\} 1`));
  assert.match(text, new RegExp(`grpc_server_handling_seconds_bucket\\{le="0.005",${labels}\\} 1`));
  assert.match(text, new RegExp(`grpc_server_handling_seconds_bucket\\{le="0.1",${labels}\\} 1`));
  assert.match(text, new RegExp(`grpc_server_handling_seconds_bucket\\{le="0.25",${labels}\\} 2`));
  assert.match(
    text,
    new RegExp(`grpc_server_handling_seconds_bucket\\{le="\\+Inf",${labels}\\} 2`),
  );
  assert.match(text, new RegExp(`grpc_server_handling_seconds_count\\{${labels}\\} 2`));
  assert.match(text, /# TYPE grpc_server_handling_seconds histogram/);
  assert.match(text, /grpc_server_in_flight_requests 0/);
});
