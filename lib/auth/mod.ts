/**
 * Authentication and authorisation: JWT issue and verification with secret rotation, password
 * hashing, the request gate that refuses calls without a token, and the principal a handler acts
 * for.
 *
 * @module
 */
export * from "./auth_gate.ts";
export * from "./password.ts";
export * from "./principal.ts";
export * from "./tokens.ts";
