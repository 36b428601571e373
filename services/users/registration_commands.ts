/**
 * Creating an account, retried safely: with an idempotency key, the account and the key commit
 * in one transaction, so the same key (within 24 h) answers the account it first created and
 * creates nothing new, and the key reused for another request is refused as `already_exists`.
 * A replay also needs the same password (checked against the account's hash), so a key alone
 * never hands out an account's private fields.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { verifyPassword } from "@platform/lib/auth";
import type { Database } from "@platform/lib/db";
import { AlreadyExistsError } from "@platform/lib/errors";
import type { UserRecord, UserRole } from "./user_record.ts";
import type { UserStore } from "./user_store.ts";

/** How long an idempotency key answers with its first account. */
export const REGISTER_IDEMPOTENCY_WINDOW_HOURS = 24;

/** A validated registration. */
export interface Registration {
  email: string;
  password: string;
  role: UserRole;
  displayName: string;
}

const KEY_REUSED = "this idempotency key was used for another registration; make a new key";

/**
 * Registrations.
 *
 * @example
 * ```ts
 * const user = await registrations.register(input, hashPassword, crypto.randomUUID());
 * ```
 */
export class RegistrationCommands {
  constructor(private readonly db: Database, private readonly store: UserStore) {}

  /**
   * Creates the account, or with a key already used for this same request, answers the account it
   * created. {@link AlreadyExistsError} when the email has an account (created otherwise) or the
   * key was used for another request.
   */
  async register(
    input: Registration,
    hash: (password: string) => Promise<string>,
    key?: string,
  ): Promise<UserRecord> {
    if (key === undefined) {
      return await this.store.insert({ ...input, passwordHash: await hash(input.password) });
    }
    const requestHash = fingerprint(input);
    const earlier = await this.replay(key, requestHash, input.password);
    if (earlier) return earlier;
    const passwordHash = await hash(input.password);
    try {
      return await this.db.transaction(async (tx) => {
        const user = await this.store.insert({ ...input, passwordHash }, tx);
        const recorded = await this.store.recordRegistration(
          key,
          requestHash,
          user.id,
          REGISTER_IDEMPOTENCY_WINDOW_HOURS,
          tx,
        );
        // The same key committed first by another call (a retry racing its original).
        if (!recorded) throw new AlreadyExistsError(KEY_REUSED);
        return user;
      });
    } catch (error) {
      // A retry racing its original: once the original has committed, answer its account.
      if (!(error instanceof AlreadyExistsError)) throw error;
      const raced = await this.replay(key, requestHash, input.password);
      if (raced) return raced;
      throw error;
    }
  }

  /** The account `key` created for this same request; undefined when the key is unused. */
  private async replay(
    key: string,
    requestHash: string,
    password: string,
  ): Promise<UserRecord | undefined> {
    const earlier = await this.store.findRegistration(key, REGISTER_IDEMPOTENCY_WINDOW_HOURS);
    if (!earlier) return undefined;
    if (
      earlier.requestHash !== requestHash || !(await verifyPassword(password, earlier.passwordHash))
    ) {
      throw new AlreadyExistsError(KEY_REUSED);
    }
    return earlier.user;
  }
}

/** The request a key stands for, without the password (which is checked against its hash). */
function fingerprint(input: Registration): string {
  return createHash("sha256")
    .update(JSON.stringify([input.email, input.role, input.displayName]))
    .digest("hex");
}
