/**
 * Register with an idempotency key (issue 21): a retry with the same key answers the account it
 * first created and creates nothing; the key with another request, or another password, is
 * already_exists; the key may come in the `Idempotency-Key` header. Real service, real PostgreSQL.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { startUsersEnv } from "./users_env.ts";

const env = await startUsersEnv();
const url = env.users.url;
const sql = postgres(env.databaseUrl, { max: 1 });
const opts = { sanitizeOps: false, sanitizeResources: false };

async function register(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/platform.users.v1.UserService/Register`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      password: "correct horse battery staple",
      role: "ROLE_CLIENT",
      displayName: "Idem Potent",
      ...body,
    }),
  });
  return { status: res.status, body: await res.json() };
}
const accounts = async (email: string) =>
  Number((await sql`SELECT count(*) AS n FROM users WHERE lower(email) = ${email}`)[0].n);
const newEmail = () => `idem-${crypto.randomUUID().slice(0, 8)}@example.com`;

Deno.test("the same key answers the first account and creates nothing new", opts, async () => {
  const email = newEmail();
  const key = crypto.randomUUID();
  const first = await register({ email, idempotencyKey: key });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const again = await register({ email, idempotencyKey: key });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(again.body, first.body);
  // The header carries the key as well.
  const byHeader = await register({ email }, { "idempotency-key": key });
  assert.deepEqual(byHeader.body, first.body);
  assert.equal(await accounts(email), 1);
  // Without a key, the email is taken: already_exists (docs/operations.md says why).
  assert.equal((await register({ email })).body.code, "already_exists");
});

Deno.test("retries racing each other create one account, all answered with it", opts, async () => {
  const email = newEmail();
  const key = crypto.randomUUID();
  const answers = await Promise.all(
    Array.from({ length: 6 }, () => register({ email, idempotencyKey: key })),
  );
  for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(new Set(answers.map((a) => a.body.user.id)).size, 1);
  assert.equal(await accounts(email), 1);
});

Deno.test("the key with another request or another password is already_exists", opts, async () => {
  const email = newEmail();
  const key = crypto.randomUUID();
  assert.equal((await register({ email, idempotencyKey: key })).status, 200);
  const otherName = await register({ email, idempotencyKey: key, displayName: "Someone Else" });
  assert.equal(otherName.body.code, "already_exists");
  assert.match(otherName.body.message, /idempotency key/);
  const otherPassword = await register({
    email,
    idempotencyKey: key,
    password: "another password entirely",
  });
  assert.equal(otherPassword.body.code, "already_exists");
  assert.equal(otherPassword.body.user, undefined, "a key alone hands out no account");
  const otherEmail = await register({ email: newEmail(), idempotencyKey: key });
  assert.equal(otherEmail.body.code, "already_exists");
  assert.equal(await accounts(email), 1);
});

Deno.test(
  "a malformed key, or a header that disagrees with the field, is invalid_argument",
  opts,
  async () => {
    const email = newEmail();
    const spaced = await register({ email, idempotencyKey: "has spaces in it" });
    assert.equal(spaced.body.code, "invalid_argument");
    const long = await register({ email, idempotencyKey: "k".repeat(256) });
    assert.equal(long.body.code, "invalid_argument");
    const both = await register({ email, idempotencyKey: "a" }, { "idempotency-key": "b" });
    assert.equal(both.body.code, "invalid_argument");
    assert.equal(await accounts(email), 0);
  },
);

Deno.test("stop", opts, async () => {
  await sql.end();
  await env.stop();
});
