/**
 * The currencies the platform accepts, for developers' rates and tasks' budgets alike, so that
 * a rate and a budget can always be compared.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** ISO 4217 codes accepted for money amounts. */
export const CURRENCIES: ReadonlySet<string> = new Set([
  "USD",
  "EUR",
  "GBP",
  "CHF",
  "CAD",
  "AUD",
  "NZD",
  "JPY",
  "CNY",
  "INR",
  "SEK",
  "NOK",
  "DKK",
  "PLN",
  "CZK",
  "BRL",
  "MXN",
  "SGD",
  "HKD",
  "ZAR",
  "UAH",
  "TRY",
]);

/**
 * The upper-case code of an accepted currency, or a ValidationError naming `field`.
 *
 * @example
 * ```ts
 * normalizeCurrency(" usd ", "budget.currency"); // "USD"
 * ```
 */
export function normalizeCurrency(value: string, field: string): string {
  const currency = value.trim().toUpperCase();
  if (!CURRENCIES.has(currency)) {
    throw new ValidationError(
      field,
      `${JSON.stringify(value.slice(0, 10))} is not a supported currency; use one of ${
        [...CURRENCIES].join(", ")
      }`,
    );
  }
  return currency;
}
