/**
 * `deno task events:pub <subject> '<json>'`: publishes one message to JetStream, the stand-in for
 * the manual's `nats pub task.created '{"task_id":"test-123","title":"Test"}'` where the nats CLI
 * is not installed. Prints the stream and sequence that stored it. NATS_URL as for the services.
 * The payload is sent as given (a malformed one is how the consumers' handling is tried); a
 * subject the event catalog does not know is warned about, since no service consumes it.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { EVENT_TYPES, eventTypeOf } from "@platform/lib/events";

const [subject, payload] = Deno.args;
if (subject === "--help" || subject === "-h") {
  console.log(`usage: deno task events:pub <subject> '<json>'   (NATS_URL)\n\nsubjects:`);
  for (const type of EVENT_TYPES) {
    console.log(
      `  ${type.subject.padEnd(20)} stream ${type.stream.name.padEnd(9)} ${type.schema.typeName}`,
    );
  }
  Deno.exit(0);
}
if (!subject || payload === undefined) {
  console.error(`usage: deno task events:pub <subject> '<json>'`);
  Deno.exit(64);
}
if (!eventTypeOf(subject)) {
  console.error(`warning: ${subject} is not in the event catalog; no service consumes it`);
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
