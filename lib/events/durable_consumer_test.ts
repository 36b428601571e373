import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../tests/harness/nats_server.ts";
import { Logger } from "../log/logger.ts";
import { Metrics } from "../metrics/registry.ts";
import { DurableConsumer, UnprocessableEventError } from "./durable_consumer.ts";
import { ensurePlatformStreams } from "./streams.ts";

Deno.test("a terminated event is settled for good: never pending, never delivered again", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url.replace("nats://", "") });
  try {
    await ensurePlatformStreams(nc);
    await jetstream(nc).publish("task.created", '{"task_id":"test-123","title":"Test"}');
    const seen: number[] = [];
    const start = () => {
      const consumer = new DurableConsumer({
        nc,
        stream: "TASKS",
        durable: "term-test",
        filterSubjects: ["task.created"],
        ackWaitMs: 1000,
        logger: new Logger("test", "error"),
        metrics: new Metrics(),
        handler: (event) => {
          seen.push(event.streamSequence);
          return Promise.reject(new UnprocessableEventError("task_id must be a UUID"));
        },
      });
      consumer.start();
      return consumer;
    };
    const first = start();
    await waitFor(() => seen.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    await first.stop();
    const info = await (await jetstreamManager(nc)).consumers.info("TASKS", "term-test");
    assert.equal(info.num_ack_pending, 0, "the terminated message is still awaiting an ack");
    assert.equal(info.num_pending, 0);
    // A restart after ack_wait gets nothing back.
    await new Promise((r) => setTimeout(r, 1500));
    const second = start();
    await new Promise((r) => setTimeout(r, 1000));
    await second.stop();
    assert.deepEqual(seen, [1], "the terminated event was delivered again");
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("an event with a malformed header block is handled once and acked, not failed forever", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url.replace("nats://", "") });
  try {
    await ensurePlatformStreams(nc);
    // nats.js refuses to send such a header, so it goes over the wire by hand (HPUB).
    const port = Number(new URL(server.url).port);
    const raw = await Deno.connect({ hostname: "127.0.0.1", port });
    const head = "NATS/1.0\r\nbad key: v\r\n\r\n";
    const body = '{"task_id":"hdr-1"}';
    const frame = `CONNECT {"verbose":false,"headers":true}\r\n` +
      `HPUB task.created ${head.length} ${head.length + body.length}\r\n${head}${body}\r\nPING\r\n`;
    await raw.write(new TextEncoder().encode(frame));
    await raw.read(new Uint8Array(4096)); // INFO and PONG: the server has the message
    raw.close();
    await new Promise((r) => setTimeout(r, 300));
    const seen: Array<{ traceparent?: string }> = [];
    const consumer = new DurableConsumer({
      nc,
      stream: "TASKS",
      durable: "header-test",
      filterSubjects: ["task.created"],
      ackWaitMs: 1000,
      logger: new Logger("test", "error"),
      metrics: new Metrics(),
      handler: (event) => {
        seen.push({ traceparent: event.traceparent });
        return Promise.resolve();
      },
    });
    consumer.start();
    await waitFor(() => seen.length === 1);
    await new Promise((r) => setTimeout(r, 1500));
    await consumer.stop();
    assert.equal(seen.length, 1, "delivered again: the event was not acked");
    assert.equal(seen[0].traceparent, undefined);
    const info = await (await jetstreamManager(nc)).consumers.info("TASKS", "header-test");
    assert.equal(info.num_ack_pending, 0);
  } finally {
    await nc.close();
    await server.destroy();
  }
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
