/**
 * JWT access tokens (HS256, `jose`) with secret rotation: the first secret signs, every secret
 * verifies, so a new secret is rolled out by prepending it and the old one removed later.
 *
 * @module
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { UnauthenticatedError } from "../errors.ts";
import type { Principal, PrincipalRole } from "./principal.ts";

const ISSUER = "freelance-platform";
const AUDIENCE = "freelance-platform";
const ROLES: readonly PrincipalRole[] = ["client", "developer", "admin", "service"];
/**
 * How far in the future a token's `iat` may lie (the issuer's clock running ahead of ours);
 * a token issued later than that is refused.
 */
export const CLOCK_SKEW_SECONDS = 30;
/** How many verified tokens are remembered (oldest forgotten first). */
export const VERIFIED_CACHE_SIZE = 10_000;

/** A signed token and the moment it expires. */
export interface IssuedToken {
  /** The JWT (HS256), to send as `Authorization: Bearer <token>`. */
  token: string;
  /** When it stops being accepted (its `exp`). */
  expiresAt: Date;
}

/**
 * Signs and verifies access tokens.
 *
 * @example
 * ```ts
 * const tokens = new TokenService(["a-secret-of-at-least-32-characters!!"], 3600);
 * const { token } = await tokens.issue({ subject: "u1", role: "developer" });
 * (await tokens.verify(token)).role; // "developer"
 * ```
 */
export class TokenService {
  /** HMAC keys imported once (importing per call would cost more than the signature itself). */
  private readonly keys: Promise<CryptoKey[]>;

  /**
   * Creates the service.
   *
   * @param secrets The HMAC secrets: the first signs, every one verifies (rotate by prepending).
   * @param ttlSeconds How long an issued token lives unless {@linkcode TokenService.issue} says otherwise.
   */
  constructor(secrets: readonly string[], readonly ttlSeconds: number) {
    if (secrets.length === 0) throw new Error("TokenService needs at least one secret");
    this.keys = Promise.all(secrets.map((secret) =>
      crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      )
    ));
  }

  /** A token for the principal, signed with the newest secret. */
  async issue(principal: Principal, ttlSeconds = this.ttlSeconds): Promise<IssuedToken> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(principal.subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign((await this.keys)[0]);
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
  }

  /**
   * The principal of a valid token; {@link UnauthenticatedError} otherwise. A verified token is
   * remembered until it expires (at most {@link VERIFIED_CACHE_SIZE} of them), since verifying
   * the signature is the most expensive step of an authenticated call.
   */
  async verify(token: string): Promise<Principal> {
    const known = this.verifiedPrincipal(token);
    if (known) return known;
    const { principal, expiresAt } = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, { principal, expiresAt });
    return principal;
  }

  /**
   * The principal of a token verified before and not expired yet, without waiting; undefined
   * when the token must go through {@link verify}.
   */
  verifiedPrincipal(token: string): Principal | undefined {
    const known = this.verified.get(token);
    if (known === undefined) return undefined;
    if (known.expiresAt > Date.now()) return known.principal;
    this.verified.delete(token);
    return undefined;
  }

  private readonly verified = new Map<string, { principal: Principal; expiresAt: number }>();

  /** Verifies `token` against each secret in turn: signature, issuer, audience, expiry, `iat` not in the future, a subject and a known role. */
  private async verifySignature(
    token: string,
  ): Promise<{ principal: Principal; expiresAt: number }> {
    let lastError: unknown;
    for (const key of await this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ["exp", "sub"],
        });
        if (
          typeof payload.iat === "number" &&
          payload.iat > Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS
        ) {
          throw new UnauthenticatedError(
            "the token was issued in the future (check the issuer's clock); log in again",
          );
        }
        const role = payload.role as PrincipalRole;
        if (typeof payload.sub !== "string" || !ROLES.includes(role)) {
          throw new UnauthenticatedError("the token carries no valid subject or role");
        }
        const expiresAt = (payload.exp ?? 0) * 1000;
        return { principal: { subject: payload.sub, role, expiresAt }, expiresAt };
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) {
          throw new UnauthenticatedError("the token has expired; log in again");
        }
        if (error instanceof UnauthenticatedError) throw error;
        lastError = error;
      }
    }
    if (lastError instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new UnauthenticatedError("the token's signature is not valid; log in again");
    }
    throw new UnauthenticatedError("the token is not a valid access token; log in again");
  }

  /**
   * A short-lived token for a platform service calling another (`service:<name>`).
   *
   * @example
   * ```ts ignore
   * const { token } = await tokens.issueServiceToken("orchestrator");
   * ```
   */
  issueServiceToken(serviceName: string, ttlSeconds = 3600): Promise<IssuedToken> {
    return this.issue({ subject: `service:${serviceName}`, role: "service" }, ttlSeconds);
  }
}
