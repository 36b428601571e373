/**
 * `deno task events:pub <subject> '<json>'`: publishes one message to JetStream, the stand-in for
 * the manual's `nats pub task.created '{"task_id":"test-123","title":"Test"}'` where the nats CLI
 * is not installed. Prints the stream and sequence that stored it. NATS_URL as for the services.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const [subject, payload] = Deno.args;
if (subject === "--help" || subject === "-h") {
  console.log(`usage: deno task events:pub <subject> '<json>'   (NATS_URL)`);
  Deno.exit(0);
}
if (!subject || payload === undefined) {
  console.error(`usage: deno task events:pub <subject> '<json>'`);
  Deno.exit(64);
}
const url = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
const nc = await connect({ servers: url.replace(/^nats:\/\//, "").split(","), timeout: 3000 })
  .catch((error) => {
    console.error(`cannot reach NATS at ${url}: ${error.message}`);
    Deno.exit(1);
  });
try {
  const ack = await jetstream(nc).publish(subject, payload);
  console.log(`published to stream ${ack.stream}, sequence ${ack.seq}`);
} catch (error) {
  console.error(`publish failed: ${(error as Error).message} (is there a stream for ${subject}?)`);
  Deno.exitCode = 1;
} finally {
  await nc.drain();
}
