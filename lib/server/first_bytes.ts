/**
 * What a plaintext connection speaks, told from its first bytes before anyone reads them: HTTP/1.1,
 * HTTP/2 whose first request is native gRPC, or other HTTP/2 (Connect, gRPC-web, h2load).
 *
 * Pure: {@link classifyFirstBytes} looks at bytes; `connection_peek.ts` gets them.
 *
 * @module
 */

/** What a connection's first bytes say it is; `undecided` asks for more bytes. */
export type FirstBytesVerdict = "http1" | "h2-grpc" | "h2-other" | "h2-no-request" | "undecided";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const HEADERS_FRAME = 0x1;

/**
 * How a native gRPC client's first HEADERS block shows itself: the `te: trailers` header gRPC
 * requires of its clients (gRPC-web and Connect clients, and the gRPC bridge's own calls back to
 * the port, do not send it), as HPACK encoders write it: the name "te" literal, the value
 * Huffman-coded (6 bytes; the Huffman code is canonical, so every encoder writes the same bytes)
 * or plain.
 */
const GRPC_SIGNS: readonly Uint8Array[] = [
  Uint8Array.of(0x02, 0x74, 0x65, 0x86, 0x4d, 0x83, 0x35, 0x05, 0xb1, 0x1f),
  Uint8Array.of(0x02, 0x74, 0x65, 0x08, ...new TextEncoder().encode("trailers")),
];

/**
 * Classifies the first bytes of a plaintext connection.
 *
 * - not the HTTP/2 preface: `http1`;
 * - the preface and a complete first HEADERS frame: `h2-grpc` when it carries a gRPC sign,
 *   else `h2-other`;
 * - the preface and frames but no HEADERS within `limit` bytes: `h2-no-request`;
 * - a prefix of either: `undecided` (peek again).
 *
 * @example
 * ```ts
 * classifyFirstBytes(new TextEncoder().encode("GET / HTTP/1.1\r\n")); // "http1"
 * ```
 */
export function classifyFirstBytes(bytes: Uint8Array, limit = 16384): FirstBytesVerdict {
  const prefaceBytes = Math.min(bytes.length, PREFACE.length);
  for (let i = 0; i < prefaceBytes; i++) if (bytes[i] !== PREFACE[i]) return "http1";
  if (bytes.length < PREFACE.length) return "undecided";
  let offset = PREFACE.length;
  while (offset + 9 <= bytes.length) {
    const length = (bytes[offset] << 16) | (bytes[offset + 1] << 8) | bytes[offset + 2];
    const type = bytes[offset + 3];
    const end = offset + 9 + length;
    if (type === HEADERS_FRAME) {
      if (end > bytes.length) return end > limit ? "h2-grpc" : "undecided";
      const block = bytes.subarray(offset + 9, end);
      return GRPC_SIGNS.some((sign) => contains(block, sign)) ? "h2-grpc" : "h2-other";
    }
    offset = end;
  }
  return offset >= limit ? "h2-no-request" : "undecided";
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const last = haystack.length - needle.length;
  outer: for (let i = 0; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
