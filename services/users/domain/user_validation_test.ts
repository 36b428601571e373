import assert from "node:assert/strict";
import { ValidationError } from "@platform/lib/errors";
import {
  normalizeEmail,
  validateDisplayName,
  validateHourlyRate,
  validatePassword,
} from "./user_validation.ts";
import { validatePageSize } from "@platform/lib/domain";

const field = (name: string) => (e: ValidationError) => e.field === name;

Deno.test("emails are normalised and checked", () => {
  assert.equal(normalizeEmail("  Dev@Example.COM "), "dev@example.com");
  for (const bad of ["", "dev", "dev@", "@x.io", "dev@x", "a b@x.io"]) {
    assert.throws(() => normalizeEmail(bad), field("email"), bad);
  }
});

Deno.test("passwords need 8..256 characters", () => {
  assert.throws(() => validatePassword("short"), field("password"));
  assert.throws(() => validatePassword("x".repeat(257)), field("password"));
  validatePassword("long enough");
});

Deno.test("display names and rates are bounded", () => {
  assert.equal(validateDisplayName("  Ada "), "Ada");
  assert.throws(() => validateDisplayName("x".repeat(101)), field("display_name"));
  assert.throws(() => validateDisplayName("a\u0000b"), field("display_name"));
  assert.deepEqual(validateHourlyRate({ currency: "eur", amountMinor: 100n }), {
    currency: "EUR",
    amountMinor: 100n,
  });
  assert.throws(
    () => validateHourlyRate({ currency: "BTC", amountMinor: 1n }),
    field("hourly_rate.currency"),
  );
  assert.throws(
    () => validateHourlyRate({ currency: "USD", amountMinor: -1n }),
    field("hourly_rate.amount_minor"),
  );
});

Deno.test("page sizes default to 20 and stop at 100", () => {
  assert.equal(validatePageSize(0), 20);
  assert.equal(validatePageSize(100), 100);
  assert.throws(() => validatePageSize(101), field("page_size"));
  assert.throws(() => validatePageSize(-1), field("page_size"));
});

Deno.test("display_name refuses the C1 control U+0085 as titles do (issue 15)", () => {
  assert.throws(() => validateDisplayName("Ada\u0085Lovelace"), ValidationError);
  assert.throws(() => validateDisplayName("Ada\u009bLovelace"), ValidationError);
  assert.throws(() => normalizeEmail("a\u0085b@example.com"), ValidationError);
});
