import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { checkedEnvelopeStream, checkEnvelopeFlags, envelopeFlagsError } from "./envelope_flags.ts";

const env = (flags: number, length: number) =>
  new Uint8Array([flags, 0, 0, 0, length, ...new Uint8Array(length)]);

Deno.test("a request envelope may carry 0x00, or 0x01 with a declared encoding", () => {
  assert.equal(envelopeFlagsError(0, "grpc-encoding", false), undefined);
  assert.equal(envelopeFlagsError(1, "grpc-encoding", true), undefined);
  for (const flags of [0x01, 0x02, 0x80, 0xff]) {
    assert.equal(envelopeFlagsError(flags, "grpc-encoding", false)?.code, Code.InvalidArgument);
  }
  assert.match(envelopeFlagsError(1, "grpc-encoding", false)!.rawMessage, /grpc-encoding/);
});

Deno.test("every complete header is checked, across chunk boundaries", async () => {
  checkEnvelopeFlags(new Uint8Array([...env(0, 3), ...env(0, 0)]), "grpc-encoding", false);
  assert.throws(
    () => checkEnvelopeFlags(new Uint8Array([...env(0, 3), ...env(0x80, 2)]), "x", false),
    /0x80/,
  );
  const body = new Uint8Array([...env(0, 4), ...env(0xff, 1)]);
  const chunks = [
    body.subarray(0, 2),
    body.subarray(2, 7),
    body.subarray(7, 10),
    body.subarray(10),
  ];
  const seen: Uint8Array[] = [];
  await assert.rejects(async () => {
    for await (const chunk of checkedEnvelopeStream(iterate(chunks), "grpc-encoding", false)) {
      seen.push(chunk);
    }
  }, /0xff/);
  assert.equal(seen.length, 2, "the chunk holding the bad header is never passed on");
});

async function* iterate(chunks: Uint8Array[]) {
  yield* chunks;
}
