import assert from "node:assert/strict";
import { RespParser } from "./redis_subscriber.ts";

Deno.test("RESP2 replies are parsed whole, however the bytes are split", () => {
  const wire = "+OK\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" +
    "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nh\u00e9\r\n" +
    "*2\r\n$4\r\npong\r\n$0\r\n\r\n-ERR no\r\n";
  const bytes = new TextEncoder().encode(wire);
  for (const step of [1, 3, 7, bytes.length]) {
    const parser = new RespParser();
    const replies: unknown[] = [];
    for (let i = 0; i < bytes.length; i += step) {
      parser.push(bytes.subarray(i, i + step));
      for (let r = parser.next(); r !== undefined; r = parser.next()) replies.push(r);
    }
    assert.equal(replies.length, 5, `split every ${step} bytes`);
    assert.equal(replies[0], "OK");
    assert.deepEqual(replies[1], ["subscribe", "ch", 1]);
    assert.deepEqual(replies[2], ["message", "ch", "h\u00e9"]);
    assert.deepEqual(replies[3], ["pong", ""]);
    assert.ok(replies[4] instanceof Error);
  }
});
