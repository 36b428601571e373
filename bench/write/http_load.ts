/**
 * A small HTTP/1.1 load generator for one unary POST (a Connect binary call): C keep-alive
 * connections over raw TCP, each sending the same pre-encoded request and reading its answer
 * (Content-Length or chunked), so the client costs little CPU beside the server on a small
 * machine. Two modes: closed loop (each connection sends its next request when the answer came:
 * the server's throughput at that concurrency) and paced (requests started at a fixed rate,
 * spread over the connections: latency at a given load).
 *
 * @module
 */

/** What one run measured. */
export interface HttpLoadResult {
  /** Answers with status 200. */
  ok: number;
  /** Answers with another status, or broken connections. */
  errors: number;
  /** Seconds the run lasted. */
  seconds: number;
  /** Answers per second with status 200. */
  rps: number;
  /** Latencies of the 200 answers, milliseconds, ascending. */
  latenciesMs: number[];
  /** The first non-200 status line and body seen, for the report. */
  firstError?: string;
}

/** One POST to send again and again. */
export interface HttpRequestSpec {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * The request's bytes on the wire (HTTP/1.1, keep-alive).
 *
 * @example
 * ```ts
 * const bytes = encodeRequest({ url: "http://127.0.0.1:8080/x", headers: {}, body: new Uint8Array() });
 * ```
 */
export function encodeRequest(spec: HttpRequestSpec): Uint8Array {
  const url = new URL(spec.url);
  const head = [
    `POST ${url.pathname} HTTP/1.1`,
    `host: ${url.host}`,
    `content-length: ${spec.body.length}`,
    ...Object.entries(spec.headers).map(([k, v]) => `${k}: ${v}`),
    "",
    "",
  ].join("\r\n");
  const headBytes = new TextEncoder().encode(head);
  const bytes = new Uint8Array(headBytes.length + spec.body.length);
  bytes.set(headBytes);
  bytes.set(spec.body, headBytes.length);
  return bytes;
}

/** Reads HTTP/1.1 responses off one connection. */
class ResponseReader {
  private buffer = new Uint8Array(0);
  private readonly chunk = new Uint8Array(64 * 1024);

  constructor(private readonly conn: Deno.TcpConn) {}

  /** The next response's status and body. */
  async next(): Promise<{ status: number; body: Uint8Array }> {
    let headEnd = indexOf(this.buffer, CRLFCRLF, 0);
    while (headEnd < 0) {
      await this.fill();
      headEnd = indexOf(this.buffer, CRLFCRLF, 0);
    }
    const head = new TextDecoder().decode(this.buffer.subarray(0, headEnd));
    const status = Number(head.slice(9, 12));
    let rest = headEnd + 4;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (length) {
      const end = rest + Number(length[1]);
      while (this.buffer.length < end) await this.fill();
      const body = this.buffer.slice(rest, end);
      this.buffer = this.buffer.slice(end);
      return { status, body };
    }
    if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      throw new Error(`response without length: ${head}`);
    }
    const parts: Uint8Array[] = [];
    for (;;) {
      let lineEnd = indexOf(this.buffer, CRLF, rest);
      while (lineEnd < 0) {
        await this.fill();
        lineEnd = indexOf(this.buffer, CRLF, rest);
      }
      const size = parseInt(new TextDecoder().decode(this.buffer.subarray(rest, lineEnd)), 16);
      const dataEnd = lineEnd + 2 + size + 2;
      while (this.buffer.length < dataEnd) await this.fill();
      if (size === 0) {
        this.buffer = this.buffer.slice(dataEnd);
        break;
      }
      parts.push(this.buffer.slice(lineEnd + 2, lineEnd + 2 + size));
      rest = dataEnd;
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const body = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      body.set(part, offset);
      offset += part.length;
    }
    return { status, body };
  }

  private async fill(): Promise<void> {
    const n = await this.conn.read(this.chunk);
    if (n === null) throw new Error("connection closed");
    const next = new Uint8Array(this.buffer.length + n);
    next.set(this.buffer);
    next.set(this.chunk.subarray(0, n), this.buffer.length);
    this.buffer = next;
  }
}

const CRLF = new Uint8Array([13, 10]);
const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Sends `spec` over `connections` keep-alive connections for `seconds`: closed loop by default,
 * or paced at `ratePerSecond` requests per second (started on schedule; a slow answer delays
 * only its own connection, and a request whose turn comes while all connections are busy waits).
 *
 * @example
 * ```ts
 * const result = await httpLoad(spec, { connections: 16, seconds: 10 });
 * console.log(result.rps);
 * ```
 */
export async function httpLoad(
  spec: HttpRequestSpec,
  options: { connections: number; seconds: number; ratePerSecond?: number },
): Promise<HttpLoadResult> {
  const url = new URL(spec.url);
  const request = encodeRequest(spec);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const rate = options.ratePerSecond;
  let issued = 0;
  /** Paced mode: waits for the next slot; false when the run is over. */
  const nextSlot = async (): Promise<boolean> => {
    if (!rate) return performance.now() < end;
    const at = started + (issued++ * 1000) / rate;
    if (at >= end) return false;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return true;
  };
  await Promise.all(Array.from({ length: options.connections }, async () => {
    let conn: Deno.TcpConn | undefined;
    let reader: ResponseReader | undefined;
    while (await nextSlot()) {
      const t0 = performance.now();
      try {
        if (!conn) {
          conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
          conn.setNoDelay(true);
          reader = new ResponseReader(conn);
        }
        let written = 0;
        while (written < request.length) written += await conn.write(request.subarray(written));
        const { status, body } = await reader!.next();
        if (status === 200) {
          ok++;
          latencies.push(performance.now() - t0);
        } else {
          errors++;
          firstError ??= `${status} ${new TextDecoder().decode(body).slice(0, 300)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String(error);
        try {
          conn?.close();
        } catch { /* closed */ }
        conn = undefined;
      }
    }
    try {
      conn?.close();
    } catch { /* closed */ }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { ok, errors, seconds, rps: ok / seconds, latenciesMs: latencies, firstError };
}
