/**
 * Run inside the test's network namespace (`ip netns exec NS deno run -A in_namespace.ts ...`),
 * where 127.0.0.1 is the namespace's own loopback: waits for the three /health and the web app,
 * and registers or
 * logs in an account over Connect JSON. Prints one JSON line.
 *
 *   in_namespace.ts health <timeoutMs>
 *   in_namespace.ts register <email>
 *   in_namespace.ts login <email>
 *
 * @module
 */
/** The three services' /health, and the web app's /livez (it has no dependencies to report). */
const CHECKS = {
  users: "http://127.0.0.1:50051/health",
  tasks: "http://127.0.0.1:50052/health",
  orchestrator: "http://127.0.0.1:50053/health",
  web: "http://127.0.0.1:8080/livez",
};
const PASSWORD = "correct horse battery staple";
const USERS = "http://127.0.0.1:50051/platform.users.v1.UserService";

async function health(url: string): Promise<{ status: number; body?: unknown }> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(2000),
    });
    return { status: res.status, body: await res.json() };
  } catch {
    return { status: 0 };
  }
}

async function call(method: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${USERS}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const [command, arg] = Deno.args;
if (command === "health") {
  const deadline = Date.now() + Number(arg);
  let result: Record<string, { status: number; body?: unknown }> = {};
  while (Date.now() < deadline) {
    result = Object.fromEntries(
      await Promise.all(
        Object.entries(CHECKS).map(async ([name, url]) => [name, await health(url)] as const),
      ),
    );
    if (Object.values(result).every((r) => r.status === 200)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(JSON.stringify(result));
} else if (command === "register") {
  console.log(JSON.stringify(
    await call("Register", {
      email: arg,
      password: PASSWORD,
      role: "ROLE_DEVELOPER",
      display_name: "Ada",
    }),
  ));
} else if (command === "login") {
  console.log(JSON.stringify(await call("Login", { email: arg, password: PASSWORD })));
} else {
  console.error("usage: in_namespace.ts health <ms> | register <email> | login <email>");
  Deno.exit(64);
}
