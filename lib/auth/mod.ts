/**
 * Authentication and authorisation: JWT issue and verification with secret rotation, password
 * hashing, the request gate that refuses calls without a token, the principal a handler acts
 * for, and who may see a task (task_visibility.ts).
 *
 * @module
 */
export * from "./auth_gate.ts";
export * from "./password.ts";
export * from "./principal.ts";
export * from "./task_visibility.ts";
export * from "./tokens.ts";
