/**
 * Reading request bodies with a deadline, and telling a client that went away from a failure.
 *
 * `Deno.serve` has no body read timeout: a client that sends its body one byte a minute keeps a
 * connection and a request open for as long as it likes. Every body read here is bounded; past
 * the deadline the call fails with `deadline_exceeded` and the response closes the connection.
 * One timer per server sweeps the reads in progress, so a call costs no timer of its own.
 *
 * (`Deno.serve` has no header read timeout either, and the handler runs only once the headers
 * are complete, so a slow-headers ("slowloris") client cannot be bounded from here: the edge
 * proxy in front of the services bounds it; see docs/operations.md.)
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";

interface PendingRead {
  deadline: number;
  fail: (error: ConnectError) => void;
}

/**
 * Bounds body reads to `timeoutMs` from the moment they start.
 *
 * @example
 * ```ts ignore
 * const bodies = new BodyReader(10_000);
 * const bytes = await bodies.readAll(req); // ConnectError deadline_exceeded past 10 s
 * ```
 */
export class BodyReader {
  private readonly pending = new Set<PendingRead>();
  private readonly complete = new WeakSet<Request>();
  private sweeper?: ReturnType<typeof setInterval>;

  /**
   * @param timeoutMs How long a body may take, from the first read.
   * @param onMalformed Told of every body whose framing broke (to log it).
   */
  constructor(
    readonly timeoutMs: number,
    private readonly onMalformed?: (req: Request, error: unknown) => void,
  ) {}

  /**
   * The whole body; rejects with `deadline_exceeded` when it has not arrived in time and with
   * `invalid_argument` when its framing breaks.
   */
  async readAll(req: Request): Promise<Uint8Array> {
    try {
      const bytes = await this.bound(req.arrayBuffer().then((buffer) => new Uint8Array(buffer)));
      this.complete.add(req);
      return bytes;
    } catch (error) {
      throw this.classify(req, error);
    }
  }

  /**
   * True once the body has been read to its end. A response to a request whose body was not
   * (refused before reading it, too large, too late, broken) closes its connection: what is left
   * of the body would otherwise be read as the next request, or hold the connection open.
   */
  readToEnd(req: Request): boolean {
    return req.body === null || this.complete.has(req);
  }

  /**
   * The body as chunks, each read bounded by the same deadline (counted from the first read).
   */
  chunks(req: Request): AsyncIterable<Uint8Array> {
    const reader = req.body?.getReader();
    const bound = this.bound.bind(this);
    const classify = this.classify.bind(this);
    const complete = this.complete;
    const timeoutMs = this.timeoutMs;
    return {
      async *[Symbol.asyncIterator]() {
        if (!reader) return;
        const deadline = Date.now() + timeoutMs;
        try {
          for (;;) {
            let next: ReadableStreamReadResult<Uint8Array>;
            try {
              next = await bound(reader.read(), deadline, () => {
                reader.cancel().catch(() => {});
              });
            } catch (error) {
              throw classify(req, error);
            }
            if (next.done) {
              complete.add(req);
              return;
            }
            yield next.value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }

  /** A body whose framing broke becomes `invalid_argument` (and is reported); others pass. */
  private classify(req: Request, error: unknown): unknown {
    if (!malformedBody(error)) return error;
    this.onMalformed?.(req, error);
    return new ConnectError(
      "the request body is malformed (its HTTP framing, such as chunked encoding, broke); the " +
        "call was not run",
      Code.InvalidArgument,
    );
  }

  /** Stops the sweeper (the server is shutting down). */
  close(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private bound<T>(
    read: Promise<T>,
    deadline = Date.now() + this.timeoutMs,
    onTimeout?: () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: PendingRead = {
        deadline,
        fail: (error) => {
          this.pending.delete(entry);
          onTimeout?.();
          reject(error);
        },
      };
      this.pending.add(entry);
      this.startSweeper();
      read.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error) => {
          this.pending.delete(entry);
          reject(error);
        },
      );
    });
  }

  private startSweeper(): void {
    if (this.sweeper !== undefined) return;
    const tick = Math.max(10, Math.min(1000, Math.floor(this.timeoutMs / 4)));
    this.sweeper = setInterval(() => {
      if (this.pending.size === 0) return;
      const now = Date.now();
      for (const entry of this.pending) {
        if (entry.deadline <= now) {
          entry.fail(
            new ConnectError(
              `the request body did not arrive within ${this.timeoutMs}ms; the call was not run`,
              Code.DeadlineExceeded,
            ),
          );
        }
      }
    }, tick);
    Deno.unrefTimer(this.sweeper as unknown as number);
  }
}

/**
 * True when a failure means the client went away (closed the connection, aborted the upload):
 * not the server's fault, and not worth an error log line.
 *
 * @example
 * ```ts ignore
 * if (clientWentAway(req, error)) logger.debug("client went away", { path });
 * ```
 */
export function clientWentAway(req: Request, error: unknown): boolean {
  if (req.signal.aborted) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === "BadResource" || error.name === "Interrupted") return true;
  return /connection (closed|reset)|body (is no longer|was) |unexpected EOF|error reading a body/i
    .test(error.message);
}

/**
 * True when reading a body failed because its framing is broken (an invalid chunk size line,
 * data after a chunk): the client's mistake, unlike a connection that went away.
 *
 * @example
 * ```ts
 * malformedBody(new Error("invalid HTTP/1 request: Invalid")); // true
 * ```
 */
export function malformedBody(error: unknown): boolean {
  return error instanceof Error && !(error instanceof ConnectError) &&
    /invalid HTTP\/1 request|invalid chunk|chunk size/i.test(error.message);
}
