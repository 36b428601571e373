/**
 * Authentication and authorisation: JWT issue and verification with secret rotation, password
 * hashing, the request gate that refuses calls without a token, the principal a handler acts
 * for, and who may see a task (task_visibility.ts).
 *
 * @example
 * ```ts
 * import { hashPassword, TokenService, verifyPassword } from "@platform/lib/auth";
 *
 * const stored = await hashPassword("correct horse battery staple");
 * console.log(await verifyPassword("correct horse battery staple", stored)); // true
 *
 * const tokens = new TokenService(["a-secret-of-at-least-32-characters!!"], 3600);
 * const { token } = await tokens.issue({ subject: "u1", role: "developer" });
 * console.log((await tokens.verify(token)).subject); // "u1"
 * ```
 *
 * @module
 */
export * from "./auth_gate.ts";
export * from "./bearer.ts";
export * from "./password.ts";
export * from "./principal.ts";
export * from "./task_visibility.ts";
export * from "./tokens.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { ContextKey, HandlerContext } from "@connectrpc/connect";
