/**
 * The request gate that authenticates every RPC before its body is read. Public methods
 * (registration, login, health, reflection) pass without a token; a present but bad token is
 * refused even on them, so a client learns its token is wrong.
 *
 * @module
 */
import type { HandlerContext } from "@connectrpc/connect";
import { toConnectError, UnauthenticatedError } from "../errors.ts";
import { bearerToken } from "./bearer.ts";
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
 * ```ts ignore
 * const gate = authGate(tokens, new Set(["platform.users.v1.UserService/Login"]));
 * ```
 */
export function authGate(
  tokens: TokenService,
  publicProcedures: ReadonlySet<string>,
): (ctx: HandlerContext) => void | Promise<void> {
  const publicCache = new Map<string, boolean>();
  const isPublic = (ctx: HandlerContext) => {
    const procedure = `${ctx.service.typeName}/${ctx.method.name}`;
    let known = publicCache.get(procedure);
    if (known === undefined) {
      known = isPublicProcedure(procedure, publicProcedures);
      publicCache.set(procedure, known);
    }
    return known;
  };
  // A token verified before is checked without a promise: the common case of every call.
  return (ctx: HandlerContext): void | Promise<void> => {
    const header = ctx.requestHeader.get("authorization");
    if (header === null) {
      if (isPublic(ctx)) return;
      throw toConnectError(
        new UnauthenticatedError(
          `${ctx.service.typeName}/${ctx.method.name} needs a token: log in and send ` +
            "Authorization: Bearer <token>",
        ),
      );
    }
    const token = bearerToken(header);
    if (token === undefined) {
      throw toConnectError(
        new UnauthenticatedError("the Authorization header must be 'Bearer <token>'"),
      );
    }
    const known = tokens.verifiedPrincipal(token);
    if (known) {
      ctx.values.set(principalKey, known);
      return;
    }
    return tokens.verify(token).then(
      (principal) => {
        ctx.values.set(principalKey, principal);
      },
      (error) => {
        throw toConnectError(error) ?? error;
      },
    );
  };
}
