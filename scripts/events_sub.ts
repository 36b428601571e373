/**
 * `deno task events:sub [subject]`: prints every message on a subject as it arrives (default
 * `>`, everything), the stand-in for the manual's `nats sub ">"`. Ctrl-C stops it.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log("usage: deno task events:sub [subject]   (default '>': everything; NATS_URL)");
  Deno.exit(0);
}
const subject = Deno.args[0] ?? ">";
const url = Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222";
const nc = await connect({ servers: url.replace(/^nats:\/\//, "").split(","), timeout: 3000 })
  .catch((error) => {
    console.error(`cannot reach NATS at ${url}: ${error.message}`);
    Deno.exit(1);
  });
console.error(`listening on ${subject} at ${url}; Ctrl-C to stop`);
Deno.addSignalListener("SIGINT", () => void nc.drain().then(() => Deno.exit(0)));
for await (const message of nc.subscribe(subject)) {
  console.log(`[${message.subject}] ${message.string()}`);
}
