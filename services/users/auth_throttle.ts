/**
 * Bounds guessing: failed logins per account and per client address, and registrations per
 * client address, each in a fixed window (counted in Redis, in memory while Redis is down; see
 * WindowCounter). Once a limit is reached the call is refused with `resource_exhausted` and a
 * `retry-after` before any password is checked or account looked up, so the answer is the same
 * for an email that has an account and one that has none.
 *
 * Only failures count towards the login limits, and a success does not reset them: an attacker
 * cannot get a fresh allowance each time the owner logs in, so an account takes at most
 * `maxFailures` wrong passwords a window (OWASP ASVS V2.2.1: 100 an hour) from addresses it has
 * never signed in from. So that an attacker who spends those guesses cannot lock the owner out,
 * an address the account signed in from within `knownAddressDays` is not held to the account's
 * limit (only to its own per-address limit): the owner at home or at work still gets in.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Counter } from "prom-client";
import type { WindowCounter } from "@platform/lib/cache";
import { RateLimitedError } from "@platform/lib/errors";

/** One limit: at most `max` counted events in `windowSeconds`. */
export interface WindowLimit {
  max: number;
  windowSeconds: number;
}

/** The limits of {@link AuthThrottle}. */
export interface AuthThrottleLimits {
  /** Failed logins per account (email), from any address. */
  loginPerAccount: WindowLimit;
  /** Failed logins from one client address, for any account. */
  loginPerAddress: WindowLimit;
  /** Registrations attempted from one client address. */
  registerPerAddress: WindowLimit;
  /** How long a successful login makes its address known to the account, in days. */
  knownAddressDays: number;
}

/** Why a call was refused: the `reason` label of `auth_throttled_total`. */
export type ThrottleReason = "login_account" | "login_address" | "register_address";

/**
 * The login and registration limits.
 *
 * @example
 * ```ts
 * await throttle.beforeLogin(email, address); // throws RateLimitedError once a limit is reached
 * if (!ok) await throttle.loginFailed(email, address);
 * ```
 */
export class AuthThrottle {
  /**
   * @param counter Where the windows are counted.
   * @param limits The limits (config.ts).
   * @param throttled `auth_throttled_total{reason}`.
   */
  constructor(
    private readonly counter: WindowCounter,
    private readonly limits: AuthThrottleLimits,
    private readonly throttled: Counter<"reason">,
  ) {}

  /** Refuses a login once the account or the address has used up its failures. */
  async beforeLogin(email: string, address: string): Promise<void> {
    const [account, from] = await Promise.all([
      this.counter.peek(accountKey(email)),
      this.counter.peek(addressKey("login", address)),
    ]);
    if (from.count >= this.limits.loginPerAddress.max) {
      this.refuse("login_address", "too many failed logins", from.resetInMs);
    }
    if (
      account.count >= this.limits.loginPerAccount.max &&
      (await this.counter.peek(knownKey(email, address))).count === 0
    ) {
      this.refuse("login_account", "too many failed logins", account.resetInMs);
    }
  }

  /** Remembers that the account signed in from `address` (it then passes the account's limit). */
  async loginSucceeded(email: string, address: string): Promise<void> {
    await this.counter.hit(knownKey(email, address), this.limits.knownAddressDays * 86_400_000);
  }

  /** Counts a failed login against the account and the address. */
  async loginFailed(email: string, address: string): Promise<void> {
    await Promise.all([
      this.counter.hit(accountKey(email), this.limits.loginPerAccount.windowSeconds * 1000),
      this.counter.hit(
        addressKey("login", address),
        this.limits.loginPerAddress.windowSeconds * 1000,
      ),
    ]);
  }

  /** Counts a registration attempt from `address`; refuses it beyond the limit. */
  async register(address: string): Promise<void> {
    const { count, resetInMs } = await this.counter.hit(
      addressKey("register", address),
      this.limits.registerPerAddress.windowSeconds * 1000,
    );
    if (count > this.limits.registerPerAddress.max) {
      this.refuse("register_address", "too many registrations from this address", resetInMs);
    }
  }

  private refuse(reason: ThrottleReason, what: string, resetInMs: number): never {
    this.throttled.inc({ reason });
    throw new RateLimitedError(what, Math.max(1, Math.ceil(resetInMs / 1000)));
  }
}

/** Emails are not written to Redis as they are: a hash names the account's counter. */
function accountKey(email: string): string {
  return `login:account:${accountHash(email)}`;
}

function knownKey(email: string, address: string): string {
  return `login:known:${accountHash(email)}:${address}`;
}

function accountHash(email: string): string {
  return createHash("sha256").update(email).digest("hex").slice(0, 32);
}

function addressKey(kind: "login" | "register", address: string): string {
  return `${kind}:address:${address}`;
}
