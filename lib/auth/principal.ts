/**
 * Who is calling: a user with a role, or another service of the platform.
 *
 * @module
 */
import { type ContextKey, createContextKey, type HandlerContext } from "@connectrpc/connect";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.ts";

/** Roles a token can carry. `service` is the identity of a platform service calling another. */
export type PrincipalRole = "client" | "developer" | "admin" | "service";

/** The verified caller of an RPC. */
export interface Principal {
  /** The user id, or `service:<name>` for a service. */
  subject: string;
  /** What the caller may do. */
  role: PrincipalRole;
  /**
   * When the token it came from stops being accepted (ms since the epoch), so a long call such
   * as a Watch stream can end then; absent when unknown.
   */
  expiresAt?: number;
}

/** Where the auth gate leaves the verified caller for handlers. */
export const principalKey: ContextKey<Principal | undefined> = createContextKey<
  Principal | undefined
>(undefined, {
  description: "authenticated caller",
});

/**
 * The verified caller, or an `unauthenticated` error when the RPC carried no valid token.
 *
 * @example
 * ```ts ignore
 * const me = requirePrincipal(ctx);
 * ```
 */
export function requirePrincipal(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) {
    throw new UnauthenticatedError("this call needs a token: send Authorization: Bearer <token>");
  }
  return principal;
}

/**
 * The caller, who must have one of the roles.
 *
 * @example
 * ```ts ignore
 * const dev = requireRole(ctx, "developer");
 * ```
 */
export function requireRole(ctx: HandlerContext, ...roles: PrincipalRole[]): Principal {
  const principal = requirePrincipal(ctx);
  if (!roles.includes(principal.role)) {
    throw new PermissionDeniedError(
      `this call is for ${roles.join(" or ")} accounts; yours is ${principal.role}`,
    );
  }
  return principal;
}

/**
 * True for admins and services, who may act on any user's data.
 *
 * @example
 * ```ts ignore
 * if (!isPrivileged(me) && me.subject !== ownerId) throw new PermissionDeniedError("not yours");
 * ```
 */
export function isPrivileged(principal: Principal): boolean {
  return principal.role === "admin" || principal.role === "service";
}
