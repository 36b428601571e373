import assert from "node:assert/strict";
import type { ValidationError } from "@platform/lib/errors";
import { decodePageToken, encodePageToken } from "./page_token.ts";

Deno.test("a page token round-trips with microseconds", () => {
  const position = { createdAt: "2026-11-29 09:14:54.772805+00", id: crypto.randomUUID() };
  assert.deepEqual(decodePageToken(encodePageToken(position)), position);
  assert.equal(decodePageToken(""), undefined);
});

Deno.test("a forged or mangled token is invalid_argument on page_token", () => {
  const id = crypto.randomUUID();
  const forged = ["2024-13-45 99:99:99+00", "0000-01-01 00:00:00+00", "2024-02-30 10:00:00+00"]
    .map((t) => btoa(JSON.stringify([t, id])));
  for (const bad of ["abc", btoa("[1,2]"), btoa('["yesterday","x"]'), "%%%", ...forged]) {
    assert.throws(() => decodePageToken(bad), (e: ValidationError) => e.field === "page_token");
  }
});
