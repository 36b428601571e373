/**
 * Shared pieces of the Task Service tests: throwaway PostgreSQL + NATS, the service as a real
 * process, tokens, Connect JSON calls with fetch, and reading the TASKS stream.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import postgres from "postgres";
import { type PrincipalRole, TokenService } from "@platform/lib/auth";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

export const SECRET = "tasks-test-secret-0123456789-abcdefghijkl";
export const tokens = new TokenService([SECRET], 3600);

/** A user with a token. */
export interface Caller {
  id: string;
  role: PrincipalRole;
  token: string;
}

/** A token for a fresh user of the role. */
export async function caller(
  role: PrincipalRole,
  id: string = crypto.randomUUID(),
): Promise<Caller> {
  const subject = role === "service" ? `service:${id}` : id;
  const { token } = await tokens.issue({ subject, role });
  return { id: subject, role, token };
}

/** Throwaway servers and the service's environment. */
export interface Stack {
  pg: PostgresServer;
  nats: NatsServer;
  databaseUrl: string;
  env: Record<string, string>;
  sql: postgres.Sql;
  destroy(): Promise<void>;
}

/** Starts PostgreSQL and NATS and creates a database. */
export async function startStack(dbName: string): Promise<Stack> {
  const [pg, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
  const databaseUrl = await pg.createDatabase(dbName);
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  return {
    pg,
    nats,
    databaseUrl,
    sql,
    env: {
      DATABASE_URL: databaseUrl,
      NATS_URL: nats.url,
      JWT_SECRETS: SECRET,
      OUTBOX_POLL_MS: "500",
    },
    async destroy() {
      await sql.end({ timeout: 1 }).catch(() => {});
      await Promise.all([pg.destroy(), nats.destroy()]);
    },
  };
}

/** Starts the Task Service process. */
export function startTasks(stack: Stack, extra: Record<string, string> = {}) {
  return ServiceProcess.start("tasks", { ...stack.env, ...extra });
}

/** A Connect JSON call with fetch: status and parsed body. */
export async function rpc(
  baseUrl: string,
  method: string,
  body: unknown,
  who?: Caller,
): Promise<
  { status: number; body: Record<string, unknown> & { code?: string; message?: string } }
> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (who) headers.authorization = `Bearer ${who.token}`;
  const res = await fetch(`${baseUrl}/platform.tasks.v1.TaskService/${method}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A valid CreateTask body (proto JSON). */
export function taskBody(overrides: Record<string, unknown> = {}) {
  return {
    title: "Build a landing page",
    description: "Static site, three sections",
    requiredSkills: ["TypeScript", "css"],
    budget: { currency: "USD", amountMinor: "150000" },
    ...overrides,
  };
}

/** A message of the stream. */
export interface StreamMessage {
  subject: string;
  seq: number;
  msgId: string | undefined;
  json: Record<string, unknown>;
}

/** Every message stored in `stream` (optionally filtered by subject). */
export async function readStream(
  natsUrl: string,
  stream: string,
  subject?: string,
): Promise<StreamMessage[]> {
  const nc = await connect({ servers: natsUrl.replace("nats://", ""), timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc);
    let info;
    try {
      info = await jsm.streams.info(stream);
    } catch {
      return [];
    }
    const out: StreamMessage[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!msg) continue;
      if (subject && msg.subject !== subject) continue;
      out.push({
        subject: msg.subject,
        seq,
        msgId: msg.header?.get("Nats-Msg-Id"),
        json: msg.json(),
      });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Polls `stream` until `count` messages of `subject` are there (or the time is up). */
export async function waitForEvents(
  natsUrl: string,
  stream: string,
  subject: string,
  count: number,
  timeoutMs = 20_000,
): Promise<StreamMessage[]> {
  const deadline = Date.now() + timeoutMs;
  let messages: StreamMessage[] = [];
  while (Date.now() < deadline) {
    messages = await readStream(natsUrl, stream, subject).catch(() => []);
    if (messages.length >= count) return messages;
    await new Promise((r) => setTimeout(r, 250));
  }
  return messages;
}

/** Publishes one JSON message to JetStream with a msg id. */
export async function publishJson(
  natsUrl: string,
  subject: string,
  payload: unknown,
  msgID: string,
) {
  const { jetstream } = await import("@nats-io/jetstream");
  const nc = await connect({ servers: natsUrl.replace("nats://", ""), timeout: 2000 });
  try {
    const js = jetstream(nc);
    await js.publish(subject, new TextEncoder().encode(JSON.stringify(payload)), { msgID });
  } finally {
    await nc.close();
  }
}

export const testOptions = { sanitizeOps: false, sanitizeResources: false };
