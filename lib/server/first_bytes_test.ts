import assert from "node:assert/strict";
import { classifyFirstBytes } from "./first_bytes.ts";

const text = (s: string) => new TextEncoder().encode(s);
const PREFACE = text("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const frame = (type: number, payload: Uint8Array) =>
  Uint8Array.of(0, payload.length >> 8, payload.length & 0xff, type, 0, 0, 0, 0, 1, ...payload);
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const SETTINGS = frame(4, new Uint8Array(6));
// The HEADERS block nghttp sent with -H 'te: trailers' (captured): te is 0x40 02 "te" 86 <huffman>.
const TE_HUFFMAN = Uint8Array.of(
  0x83,
  0x86,
  0x40,
  0x02,
  0x74,
  0x65,
  0x86,
  0x4d,
  0x83,
  0x35,
  0x05,
  0xb1,
  0x1f,
);
const TE_PLAIN = join(
  Uint8Array.of(0x83, 0x00, 0x02),
  text("te"),
  Uint8Array.of(0x08),
  text("trailers"),
);
const CONNECT = Uint8Array.of(0x83, 0x86, 0x5f, 0x10, ...text("application/json"));

Deno.test("HTTP/1.1 is told by its first byte that differs from the preface", () => {
  assert.equal(classifyFirstBytes(text("POST /a.B/C HTTP/1.1\r\n")), "http1");
  assert.equal(classifyFirstBytes(text("GET")), "http1");
  assert.equal(classifyFirstBytes(text("PRI * HTTP/1.1")), "http1");
});

Deno.test("a prefix of the preface, or frames without a complete HEADERS, asks for more", () => {
  assert.equal(classifyFirstBytes(text("PRI * HT")), "undecided");
  assert.equal(classifyFirstBytes(PREFACE), "undecided");
  assert.equal(classifyFirstBytes(join(PREFACE, SETTINGS)), "undecided");
  const headers = frame(1, TE_HUFFMAN);
  assert.equal(classifyFirstBytes(join(PREFACE, SETTINGS, headers.subarray(0, 12))), "undecided");
});

Deno.test("the first HEADERS with te: trailers (Huffman or plain) is native gRPC", () => {
  assert.equal(classifyFirstBytes(join(PREFACE, SETTINGS, frame(1, TE_HUFFMAN))), "h2-grpc");
  assert.equal(classifyFirstBytes(join(PREFACE, SETTINGS, frame(1, TE_PLAIN))), "h2-grpc");
});

Deno.test("the first HEADERS without it is other HTTP/2 (Connect, gRPC-web, h2load)", () => {
  assert.equal(classifyFirstBytes(join(PREFACE, SETTINGS, frame(1, CONNECT))), "h2-other");
});

Deno.test("frames past the limit and no HEADERS: no request yet", () => {
  const many = join(PREFACE, ...Array.from({ length: 20 }, () => SETTINGS));
  assert.equal(classifyFirstBytes(many, 100), "h2-no-request");
});
