/**
 * Password hashing with scrypt (node:crypto, a memory-hard KDF), a random salt per password and a
 * constant-time comparison. Hashes carry their parameters, so they can be raised later.
 *
 * Each hash needs 16 MiB (128 * N * r bytes) on a thread of the runtime's pool, and the
 * allocator keeps that memory with the thread once the hash is done: 64 logins at once took a
 * User Service from 80 MB to 700 MB, for good. Hashes therefore run at most
 * `PASSWORD_HASH_CONCURRENCY` (2) at a time; other callers wait their turn (none fails), which
 * also keeps a burst of logins from starving every other request of CPU.
 *
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

const concurrency = hashConcurrency();
let running = 0;
const waiting: Array<() => void> = [];

function hashConcurrency(): number {
  const raw = Deno.env.get("PASSWORD_HASH_CONCURRENCY");
  const value = raw === undefined ? 2 : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new Error(`PASSWORD_HASH_CONCURRENCY must be an integer from 1 to 64, not ${raw}`);
  }
  return value;
}

/** Runs `work` when fewer than `concurrency` hashes run; callers queue in order. */
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return inTurn(() => deriveNow(password, salt, n, r, p));
}

function deriveNow(
  password: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r }, (
      error,
      key,
    ) => error ? reject(error) : resolve(key));
  });
}

/**
 * Hashes a password as `scrypt$N$r$p$salt$hash` (base64 parts).
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse battery staple");
 * await verifyPassword("correct horse battery staple", stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/**
 * True when the password matches the stored hash. False for a malformed hash.
 *
 * @example
 * ```ts
 * await verifyPassword("wrong", await hashPassword("right")); // false
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(password, Buffer.from(salt, "base64"), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password, compared against when the email is unknown (same timing). */
export const DUMMY_PASSWORD_HASH: string = await hashPassword(crypto.randomUUID());
