/**
 * The flags byte of a request envelope (gRPC-web and Connect streaming). A request may only carry
 * 0x00 (a plain message) or 0x01 (a message compressed with the encoding the request declares).
 * connect-es answered anything else `internal` (a compressed flag without an encoding, 0xFF) or
 * skipped it silently (a trailer flag); both are the client's mistake: `invalid_argument`.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The error for a request envelope's flags, or undefined when they are valid.
 *
 * @example
 * ```ts
 * envelopeFlagsError(0x01, "grpc-encoding", false)?.code; // Code.InvalidArgument
 * envelopeFlagsError(0x01, "grpc-encoding", true); // undefined
 * ```
 */
export function envelopeFlagsError(
  flags: number,
  encodingHeader: string,
  compressionDeclared: boolean,
): ConnectError | undefined {
  if (flags === 0 || (flags === 1 && compressionDeclared)) return undefined;
  const hex = `0x${flags.toString(16).padStart(2, "0")}`;
  if (flags === 1) {
    return new ConnectError(
      `protocol error: envelope flags ${hex} mark a compressed message, but the request ` +
        `declares no ${encodingHeader}; send ${encodingHeader}: gzip with it or clear the flag`,
      Code.InvalidArgument,
    );
  }
  return new ConnectError(
    `protocol error: envelope flags ${hex} are not valid in a request ` +
      "(0x00 for a message, 0x01 for a compressed one)",
    Code.InvalidArgument,
  );
}

/**
 * Checks the flags byte of every envelope in `bytes`, in order, skipping payloads; throws the
 * first error. Stops at a payload the bytes do not hold completely.
 *
 * @example
 * ```ts ignore
 * checkEnvelopeFlags(body, "grpc-encoding", false);
 * ```
 */
export function checkEnvelopeFlags(
  bytes: Uint8Array,
  encodingHeader: string,
  compressionDeclared: boolean,
): void {
  let offset = 0;
  while (offset < bytes.length) {
    const error = envelopeFlagsError(bytes[offset], encodingHeader, compressionDeclared);
    if (error) throw error;
    if (bytes.length - offset < 5) return;
    const length = bytes[offset + 1] * 0x1000000 + (bytes[offset + 2] << 16) +
      (bytes[offset + 3] << 8) + bytes[offset + 4];
    offset += 5 + length;
  }
}

/**
 * The same check over a body that arrives in chunks: each chunk is scanned before it is passed
 * on, so connect-es never parses an envelope whose flags are invalid.
 *
 * @example
 * ```ts ignore
 * const body = checkedEnvelopeStream(source, "grpc-encoding", false);
 * ```
 */
export async function* checkedEnvelopeStream(
  source: AsyncIterable<Uint8Array>,
  encodingHeader: string,
  compressionDeclared: boolean,
): AsyncIterable<Uint8Array> {
  const scanner = new EnvelopeFlagScanner(encodingHeader, compressionDeclared);
  for await (const chunk of source) {
    scanner.scan(chunk);
    yield chunk;
  }
}

/** Walks envelope headers across chunk boundaries. */
class EnvelopeFlagScanner {
  private readonly header = new Uint8Array(5);
  private headerBytes = 0;
  private payloadLeft = 0;

  constructor(
    private readonly encodingHeader: string,
    private readonly compressionDeclared: boolean,
  ) {}

  scan(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadLeft > 0) {
        const skip = Math.min(this.payloadLeft, chunk.length - offset);
        this.payloadLeft -= skip;
        offset += skip;
        continue;
      }
      if (this.headerBytes === 0) {
        // The flags byte is judged as soon as it arrives.
        const error = envelopeFlagsError(
          chunk[offset],
          this.encodingHeader,
          this.compressionDeclared,
        );
        if (error) throw error;
      }
      const take = Math.min(5 - this.headerBytes, chunk.length - offset);
      this.header.set(chunk.subarray(offset, offset + take), this.headerBytes);
      this.headerBytes += take;
      offset += take;
      if (this.headerBytes < 5) return;
      this.headerBytes = 0;
      this.payloadLeft = new DataView(this.header.buffer).getUint32(1);
    }
  }
}
