import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { codeFromWire, connectCodeString, reclassifyDecodeError } from "./protocol_errors.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("connect code strings are snake case", () => {
  assert.equal(connectCodeString(Code.InvalidArgument), "invalid_argument");
  assert.equal(connectCodeString(Code.Unavailable), "unavailable");
});

Deno.test("codes are read from every wire form", () => {
  assert.equal(codeFromWire(200, new Headers({ "grpc-status": "5" }), undefined), "NotFound");
  const json = new Headers({ "content-type": "application/json" });
  assert.equal(codeFromWire(401, json, enc('{"code":"unauthenticated"}')), "Unauthenticated");
  assert.equal(codeFromWire(200, json, enc('{"user":{}}')), "OK");
  const trailer = new Uint8Array([0x80, 0, 0, 0, 15, ...enc("grpc-status: 3\r\n")]);
  assert.equal(
    codeFromWire(200, new Headers({ "content-type": "application/grpc-web+proto" }), trailer),
    "InvalidArgument",
  );
  const endStream = new Uint8Array([0x02, 0, 0, 0, 0, ...enc('{"error":{"code":"not_found"}}')]);
  assert.equal(
    codeFromWire(200, new Headers({ "content-type": "application/connect+json" }), endStream),
    "NotFound",
  );
});

Deno.test("a binary decode failure becomes invalid_argument", () => {
  const fixed = reclassifyDecodeError(
    500,
    new Headers({ "content-type": "application/json" }),
    enc('{"code":"internal","message":"parse binary: premature EOF"}'),
  );
  assert.equal(fixed.status, 400);
  assert.match(new TextDecoder().decode(fixed.body), /invalid_argument/);
  const other = reclassifyDecodeError(500, new Headers(), enc('{"code":"internal"}'));
  assert.equal(other.status, 500);
});

function envelope(flags: number, text: string): Uint8Array {
  const payload = enc(text);
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

Deno.test("a decode failure in a gRPC-web trailer frame is rebuilt as invalid_argument", () => {
  const headers = new Headers({ "content-type": "application/grpc-web+proto" });
  const body = envelope(
    0x80,
    "grpc-status: 13\r\ngrpc-message: parse%20binary: premature%20EOF\r\n",
  );
  const fixed = reclassifyDecodeError(200, headers, body).body!;
  assert.equal(codeFromWire(200, headers, fixed), "InvalidArgument");
  assert.equal(new DataView(fixed.buffer).getUint32(1), fixed.length - 5, "length prefix rebuilt");
  const other = envelope(0x80, "grpc-status: 13\r\ngrpc-message: boom\r\n");
  assert.equal(
    codeFromWire(200, headers, reclassifyDecodeError(200, headers, other).body),
    "Internal",
  );
});

Deno.test("a decode failure in a Connect end-stream message is rebuilt as invalid_argument", () => {
  const headers = new Headers({ "content-type": "application/connect+proto" });
  const body = envelope(0x02, '{"error":{"code":"internal","message":"parse binary: x"}}');
  assert.equal(
    codeFromWire(200, headers, reclassifyDecodeError(200, headers, body).body),
    "InvalidArgument",
  );
  const data = envelope(0x00, "not a trailer");
  assert.equal(reclassifyDecodeError(200, headers, data).body, data);
});
