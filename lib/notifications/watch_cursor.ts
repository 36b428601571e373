/**
 * Watch cursors: where a user's notification stream stands, as an opaque string the client sends
 * back to resume. A cursor is `<seq>.<mac>`: the NOTIFICATIONS stream sequence of the last frame
 * seen and an HMAC-SHA256 (first 16 bytes, base64url) over the user id and that sequence, keyed
 * with the platform's JWT secrets (the first signs, every one verifies, so a secret rotation keeps
 * cursors valid). A cursor made up, altered, or issued to another user fails verification, and
 * `Watch` answers `invalid_argument`. The signed message is `fp-watch-cursor\0<user>\0<seq>`,
 * which no JWT signing input can equal (those never contain NUL).
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

const MAC_BYTES = 16;
const MAX_CURSOR_CHARS = 64;
const CURSOR = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/;

/**
 * Signs and verifies cursors.
 *
 * @example
 * ```ts ignore
 * const cursors = new WatchCursors(config.jwtSecrets);
 * const cursor = await cursors.sign(userId, 42);
 * await cursors.verify(userId, cursor); // 42
 * ```
 */
export class WatchCursors {
  private readonly keys: Promise<CryptoKey[]>;

  /**
   * Creates the signer.
   *
   * @param secrets The platform's JWT secrets: the first signs, every one verifies.
   */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error("WatchCursors needs at least one secret");
    this.keys = Promise.all(secrets.map((secret) =>
      crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      )
    ));
  }

  /** The cursor of stream sequence `seq` for `userId`, signed with the newest secret. */
  async sign(userId: string, seq: number): Promise<string> {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`not a stream sequence: ${seq}`);
    const [key] = await this.keys;
    return `${seq}.${await mac(key, userId, seq)}`;
  }

  /**
   * The stream sequence of a cursor issued to `userId`; {@link ValidationError} on `cursor` for
   * anything else (malformed, forged, another user's).
   */
  async verify(userId: string, cursor: string): Promise<number> {
    const match = cursor.length <= MAX_CURSOR_CHARS ? CURSOR.exec(cursor) : null;
    if (match) {
      const seq = Number(match[1]);
      if (Number.isSafeInteger(seq)) {
        for (const key of await this.keys) {
          if (timingSafeEqual(await mac(key, userId, seq), match[2])) return seq;
        }
      }
    }
    throw new ValidationError(
      "cursor",
      "is not a cursor this service gave you; send the cursor of the last frame your own Watch " +
        "received, or none to start now",
    );
  }
}

async function mac(key: CryptoKey, userId: string, seq: number): Promise<string> {
  const data = new TextEncoder().encode(`fp-watch-cursor\0${userId.toLowerCase()}\0${seq}`);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
  return base64url(signature.subarray(0, MAC_BYTES));
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
