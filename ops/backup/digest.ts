/**
 * SHA-256 and byte counting over a stream, without holding the stream in memory.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The result of {@link digestStream}. */
export interface StreamDigest {
  sha256: string;
  sizeBytes: number;
  /** The first bytes (the archive header), for a format check. */
  head: Uint8Array;
}

/**
 * A pass-through stream that hashes and counts what flows through it, reporting progress.
 *
 * @example
 * ```ts
 * const meter = new DigestStream((bytes) => console.log(bytes));
 * await source.pipeThrough(meter).pipeTo(sink);
 * meter.result(); // { sha256, sizeBytes, head }
 * ```
 */
export class DigestStream extends TransformStream<Uint8Array, Uint8Array> {
  private readonly hash = createHash("sha256");
  private bytes = 0;
  private headBytes = new Uint8Array(0);

  constructor(
    onProgress?: (bytes: number) => void,
    /** Awaited before the stream ends: an error here fails the stream (e.g. pg_dump's exit). */
    beforeEnd?: () => Promise<void>,
  ) {
    super({
      transform: (chunk, controller) => {
        this.hash.update(chunk);
        if (this.headBytes.length < 16) {
          const head = new Uint8Array(Math.min(16, this.headBytes.length + chunk.length));
          head.set(this.headBytes);
          head.set(chunk.subarray(0, head.length - this.headBytes.length), this.headBytes.length);
          this.headBytes = head;
        }
        this.bytes += chunk.length;
        onProgress?.(this.bytes);
        controller.enqueue(chunk);
      },
      flush: async () => {
        await beforeEnd?.();
      },
    });
  }

  /** The digest so far (final once the stream has ended). */
  result(): StreamDigest {
    return { sha256: this.hash.copy().digest("hex"), sizeBytes: this.bytes, head: this.headBytes };
  }
}

/**
 * Reads a whole stream and returns its digest.
 *
 * @example
 * ```ts
 * const { sha256, sizeBytes } = await digestStream((await Deno.open(path)).readable);
 * ```
 */
export async function digestStream(
  stream: ReadableStream<Uint8Array>,
  onProgress?: (bytes: number) => void,
  copyTo?: WritableStream<Uint8Array>,
): Promise<StreamDigest> {
  const meter = new DigestStream(onProgress);
  const piped = stream.pipeThrough(meter);
  if (copyTo) {
    await piped.pipeTo(copyTo);
  } else {
    for await (const _ of piped) { /* consume */ }
  }
  return meter.result();
}

/** The first bytes of every pg_dump custom-format archive. */
export const CUSTOM_FORMAT_MAGIC = "PGDMP";

/**
 * True when the bytes start like a pg_dump custom-format archive.
 *
 * @example
 * ```ts
 * isCustomFormat(new TextEncoder().encode("PGDMP...")); // true
 * ```
 */
export function isCustomFormat(head: Uint8Array): boolean {
  return new TextDecoder().decode(head.subarray(0, 5)) === CUSTOM_FORMAT_MAGIC;
}
