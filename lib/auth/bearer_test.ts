/** The one Bearer reading. No servers. */
import assert from "node:assert/strict";
import { bearerToken } from "./bearer.ts";

Deno.test("bearerToken: the token of 'Bearer <token>', nothing else", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer   abc "), "abc");
  assert.equal(bearerToken(" BEARER abc"), "abc");
  assert.equal(bearerToken("Bearer"), undefined);
  assert.equal(bearerToken("Bearer a b"), undefined);
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken(""), undefined);
  assert.equal(bearerToken(null), undefined);
  assert.equal(bearerToken(undefined), undefined);
});
