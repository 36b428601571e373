import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../tests/harness/nats_server.ts";
import { ensureStream, TASKS_STREAM } from "./streams.ts";

Deno.test(
  "ensureStream: replicas creating the same stream at once all succeed; a real overlap fails",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const nats = await NatsServer.start();
    const connections = await Promise.all(
      Array.from({ length: 8 }, () => connect({ servers: nats.url })),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const managers = await Promise.all(connections.map((nc) => jetstreamManager(nc)));
        await managers[0].streams.delete(TASKS_STREAM.name).catch(() => undefined);
        // Eight replicas starting together, as a deployment's services do.
        await Promise.all(managers.map((jsm) => ensureStream(jsm, TASKS_STREAM)));
        assert.deepEqual(
          (await managers[0].streams.info(TASKS_STREAM.name)).config.subjects,
          TASKS_STREAM.subjects,
        );
      }
      // Another stream owning the subjects is a real conflict, and it is reported.
      const jsm = await jetstreamManager(connections[0]);
      await jsm.streams.delete(TASKS_STREAM.name);
      await jsm.streams.add({ name: "SOMEONE_ELSES", subjects: [...TASKS_STREAM.subjects] });
      await assert.rejects(() => ensureStream(jsm, TASKS_STREAM), /overlap/i);
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
      await nats.destroy();
    }
  },
);
