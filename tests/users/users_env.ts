/**
 * A User Service process with its own throwaway PostgreSQL, Redis and NATS (where its presence
 * events go), for black-box tests.
 *
 * @module
 */
import { Role } from "@platform/proto/users/v1";
import { UserService } from "@platform/proto/users/v1";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { rpcClient } from "../harness/rpc_clients.ts";
import { ServiceProcess } from "../harness/service_process.ts";

/** The secret the test services sign with. */
export const TEST_SECRET = "test-secret-that-is-long-enough-0123456789";

/** A running User Service and its dependencies. */
export interface UsersEnv {
  pg: PostgresServer;
  redis: RedisServer;
  nats: NatsServer;
  users: ServiceProcess;
  databaseUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL, Redis and the User Service.
 *
 * @example
 * ```ts
 * const env = await startUsersEnv({ PRESENCE_TTL_SECONDS: "2" });
 * ```
 */
export async function startUsersEnv(extraEnv: Record<string, string> = {}): Promise<UsersEnv> {
  const [pg, redis, nats] = await Promise.all([
    PostgresServer.start(),
    RedisServer.start(),
    NatsServer.start(),
  ]);
  const databaseUrl = await pg.createDatabase("freelance_platform");
  const users = await ServiceProcess.start("users", {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    NATS_URL: nats.url,
    JWT_SECRETS: TEST_SECRET,
    ...extraEnv,
  });
  return {
    pg,
    redis,
    nats,
    users,
    databaseUrl,
    async stop() {
      await users.stop();
      await redis.stop();
      await nats.destroy();
      await pg.destroy();
    },
  };
}

let counter = 0;

/**
 * Registers an account and logs in; returns its id, token and a client carrying the token.
 *
 * @example
 * ```ts
 * const dev = await signUp(env.users.url, "developer");
 * ```
 */
export async function signUp(baseUrl: string, role: "client" | "developer") {
  const anonymous = rpcClient(UserService, baseUrl);
  const email = `${role}${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "correct horse battery staple";
  const { user } = await anonymous.register({
    email,
    password,
    role: role === "client" ? Role.CLIENT : Role.DEVELOPER,
    displayName: `${role} ${counter}`,
  });
  const login = await anonymous.login({ email, password });
  return {
    id: user!.id,
    email,
    password,
    token: login.accessToken,
    client: rpcClient(UserService, baseUrl, undefined, login.accessToken),
  };
}
