import assert from "node:assert/strict";
import { requestPath } from "./request_path.ts";

Deno.test("the raw path of a request URL", () => {
  assert.equal(requestPath("http://127.0.0.1:50051/a.B/C"), "/a.B/C");
  assert.equal(requestPath("http://h/a.B/C?x=1#y"), "/a.B/C");
  assert.equal(requestPath("http://h"), "/");
  assert.equal(requestPath("https://h:1/health"), "/health");
});
