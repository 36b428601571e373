/**
 * The request gate that authenticates every RPC before its body is read. Public methods
 * (registration, login, health, reflection) pass without a token; a present but bad token is
 * refused even on them, so a client learns its token is wrong.
 *
 * @module
 */
import type { HandlerContext } from "@connectrpc/connect";
import { toConnectError, UnauthenticatedError } from "../errors.ts";
import { principalKey } from "./principal.ts";
import type { TokenService } from "./tokens.ts";

/**
 * True for a procedure ("package.Service/Method") callable without a token: one of the
 * service's public procedures, or gRPC health and reflection.
 *
 * @example
 * ```ts
 * isPublicProcedure("grpc.health.v1.Health/Check", new Set()); // true
 * ```
 */
export function isPublicProcedure(
  procedure: string,
  publicProcedures: ReadonlySet<string>,
): boolean {
  return publicProcedures.has(procedure) || procedure.startsWith("grpc.health.") ||
    procedure.startsWith("grpc.reflection.");
}

/**
 * Builds the gate for `createConnectRouter({ requestGate })`.
 *
 * @example
 * ```ts
 * const gate = authGate(tokens, new Set(["platform.users.v1.UserService/Login"]));
 * ```
 */
export function authGate(
  tokens: TokenService,
  publicProcedures: ReadonlySet<string>,
): (ctx: HandlerContext) => Promise<void> {
  const check = async (ctx: HandlerContext): Promise<void> => {
    const procedure = `${ctx.service.typeName}/${ctx.method.name}`;
    const isPublic = isPublicProcedure(procedure, publicProcedures);
    const header = ctx.requestHeader.get("authorization");
    if (header === null) {
      if (isPublic) return;
      throw new UnauthenticatedError(
        `${procedure} needs a token: log in and send Authorization: Bearer <token>`,
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match) {
      throw new UnauthenticatedError("the Authorization header must be 'Bearer <token>'");
    }
    ctx.values.set(principalKey, await tokens.verify(match[1]));
  };
  return async (ctx: HandlerContext): Promise<void> => {
    try {
      await check(ctx);
    } catch (error) {
      throw toConnectError(error) ?? error;
    }
  };
}
