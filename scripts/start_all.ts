/**
 * Runs the three services together, as `deno task start` does: each in its own process, its
 * log lines prefixed with its name. SIGINT or SIGTERM stops them all gracefully; if one dies,
 * the others are stopped too and the exit code says so.
 *
 * Uses the environment as it is (DATABASE_URL, NATS_URL, REDIS_URL, JWT_SECRETS, ...), so the
 * services find the machine's PostgreSQL, NATS and Redis by default.
 *
 * @module
 */
const root = new URL("../", import.meta.url).pathname;
const services = [
  { name: "users", port: "50051" },
  { name: "tasks", port: "50052" },
  { name: "orchestrator", port: "50053" },
];

const children = services.map(({ name, port }) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `services/${name}/main.ts`],
    cwd: root,
    env: { PORT: Deno.env.get(`${name.toUpperCase()}_PORT`) ?? port },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  prefix(name, child.stdout, Deno.stdout);
  prefix(name, child.stderr, Deno.stderr);
  return { name, child };
});

let stopping = false;
function stopAll(signal: Deno.Signal) {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
}
Deno.addSignalListener("SIGINT", () => stopAll("SIGTERM"));
Deno.addSignalListener("SIGTERM", () => stopAll("SIGTERM"));

const first = await Promise.race(
  children.map(async ({ name, child }) => ({ name, status: await child.status })),
);
if (!stopping) {
  console.error(`${first.name} exited with code ${first.status.code}; stopping the others`);
  stopAll("SIGTERM");
}
const statuses = await Promise.all(children.map(({ child }) => child.status));
Deno.exit(statuses.every((s) => s.code === 0) ? 0 : 1);

async function prefix(name: string, stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) {
  const label = `${name.padEnd(12)}| `;
  let buffer = "";
  const encoder = new TextEncoder();
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    if (lines.length) {
      await out.write(encoder.encode(lines.map((l) => label + l).join("\n") + "\n"));
    }
  }
  if (buffer) await out.write(encoder.encode(label + buffer + "\n"));
}
