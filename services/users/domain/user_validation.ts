/**
 * Validation of account and profile input. Pure: no I/O, every error names its field.
 *
 * @module
 */
import {
  containsControlCharacters,
  normalizeCurrency,
  rejectControlCharacters,
} from "@platform/lib/domain";
import { ValidationError } from "@platform/lib/errors";

const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * A trimmed, lower-cased email address.
 *
 * @example
 * ```ts
 * normalizeEmail(" Dev@Example.com "); // "dev@example.com"
 * ```
 */
export function normalizeEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (
    value.length > 254 || !EMAIL.test(value) ||
    containsControlCharacters(value, { lineBreaks: false })
  ) {
    throw new ValidationError("email", "must be an email address such as dev@example.com");
  }
  return value;
}

/**
 * Checks a new password's length (8..256 characters).
 *
 * @example
 * ```ts
 * validatePassword("correct horse battery staple");
 * ```
 */
export function validatePassword(password: string): void {
  if (password.length < 8) throw new ValidationError("password", "must be at least 8 characters");
  if (password.length > 256) {
    throw new ValidationError("password", "must be at most 256 characters");
  }
}

/**
 * A trimmed display name of at most 100 characters with no control characters.
 *
 * @example
 * ```ts
 * validateDisplayName("  Ada Lovelace "); // "Ada Lovelace"
 * ```
 */
export function validateDisplayName(name: string): string {
  const value = name.trim();
  if (value.length > 100) {
    throw new ValidationError("display_name", "must be at most 100 characters");
  }
  rejectControlCharacters(value, "display_name", { lineBreaks: false });
  return value;
}

/**
 * A trimmed bio of at most 5000 characters.
 *
 * @example
 * ```ts
 * validateBio("Go and Postgres, ten years."); // "Go and Postgres, ten years."
 * ```
 */
export function validateBio(bio: string): string {
  const value = bio.trim();
  if (value.length > 5000) throw new ValidationError("bio", "must be at most 5000 characters");
  rejectControlCharacters(value, "bio");
  return value;
}

/**
 * An hourly rate: a known currency and 0..1,000,000.00 in minor units.
 *
 * @example
 * ```ts
 * validateHourlyRate({ currency: "usd", amountMinor: 5000n }); // { currency: "USD", amountMinor: 5000n }
 * ```
 */
export function validateHourlyRate(
  rate: { currency: string; amountMinor: bigint },
): { currency: string; amountMinor: bigint } {
  const currency = normalizeCurrency(rate.currency, "hourly_rate.currency");
  if (rate.amountMinor < 0n || rate.amountMinor > 100_000_000n) {
    throw new ValidationError(
      "hourly_rate.amount_minor",
      "must be from 0 to 100000000 (minor units, so 1,000,000.00 at most)",
    );
  }
  return { currency, amountMinor: rate.amountMinor };
}
