/**
 * Looks at a freshly accepted TCP connection's first bytes without taking them (`recv` with
 * `MSG_PEEK`), so that whoever serves the connection afterwards (Deno's own HTTP server, or
 * node:http2 for native gRPC) reads it from its very first byte.
 *
 * Deno has no peek: this calls libc's `recv` through FFI on the connection's file descriptor,
 * which Deno keeps under an internal symbol (`Deno.internal.fd`, Deno 2.9.6). Where either is
 * missing (no FFI permission, not Linux, another Deno), {@link connectionPeeker} returns
 * undefined and the server says so and serves as before (no native gRPC on plaintext).
 *
 * @module
 */
import { classifyFirstBytes, type FirstBytesVerdict } from "./first_bytes.ts";

const MSG_PEEK = 0x2;
const MSG_DONTWAIT = 0x40;
const PEEK_BYTES = 16384;

/** How long to wait for first bytes, and for a first request after the HTTP/2 preface. */
export interface PeekTimeouts {
  /** No byte at all by then: served by Deno's server, which waits on (HTTP/1.1 or h2). */
  firstBytesMs: number;
  /**
   * The preface came but no request by then (clients that wait for the server's SETTINGS, as
   * some gRPC clients do): served by node:http2, which serves every kind of request.
   */
  firstRequestMs: number;
}

/** Classifies a connection by its first bytes, leaving them for the reader. */
export type ConnectionPeeker = (conn: Deno.Conn) => Promise<FirstBytesVerdict>;

/**
 * The peeker, or undefined when this runtime cannot peek (the reason is in `why`).
 *
 * @example
 * ```ts ignore
 * const peek = connectionPeeker({ firstBytesMs: 10_000, firstRequestMs: 200 });
 * if (peek) console.log(await peek(conn)); // "http1", "h2-grpc", ...
 * ```
 */
export function connectionPeeker(
  timeouts: PeekTimeouts,
  why: (reason: string) => void = () => {},
): ConnectionPeeker | undefined {
  if (Deno.build.os !== "linux") {
    why(`peeking at connections needs Linux (this is ${Deno.build.os})`);
    return undefined;
  }
  let recv: (fd: number, buffer: Uint8Array, length: bigint, flags: number) => number | bigint;
  try {
    const libc = Deno.dlopen("libc.so.6", {
      recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
    });
    recv = libc.symbols.recv as typeof recv;
  } catch (error) {
    why(`libc's recv is not reachable through FFI (${(error as Error).message})`);
    return undefined;
  }
  const fdOf = (conn: Deno.Conn): number | undefined => {
    const symbol = Object.getOwnPropertySymbols(conn).find((s) =>
      s.description === "Deno.internal.fd"
    );
    const fd = symbol && (conn as unknown as Record<symbol, unknown>)[symbol];
    return typeof fd === "number" ? fd : undefined;
  };
  const buffer = new Uint8Array(PEEK_BYTES);
  return async (conn) => {
    const fd = fdOf(conn);
    if (fd === undefined) return "http1";
    const started = Date.now();
    let prefaceAt: number | undefined;
    for (let wait = 0;; wait = Math.min(Math.max(1, wait * 2), 20)) {
      const n = Number(recv(fd, buffer, BigInt(PEEK_BYTES), MSG_PEEK | MSG_DONTWAIT));
      // 0: the peer closed; < 0: nothing yet (EAGAIN) or an error the server will meet too.
      if (n === 0) return "http1";
      if (n > 0) {
        const verdict = classifyFirstBytes(buffer.subarray(0, n), PEEK_BYTES);
        if (verdict !== "undecided") return verdict;
        if (n >= 24) prefaceAt ??= Date.now();
      }
      const now = Date.now();
      if (prefaceAt !== undefined && now - prefaceAt >= timeouts.firstRequestMs) {
        return "h2-no-request";
      }
      if (prefaceAt === undefined && now - started >= timeouts.firstBytesMs) return "http1";
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
}
