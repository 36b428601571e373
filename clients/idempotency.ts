/**
 * Idempotency keys for the calls that create something: a request message with an
 * `idempotency_key` field (CreateTask) gets a fresh key when the caller set none, once per
 * logical call, and an answer that leaves the outcome open (`unavailable`, `unknown`,
 * `deadline_exceeded` from the server, `aborted`, or no answer at all) is retried with that same
 * key: the service answers the first outcome instead of creating twice. A call whose own
 * deadline or signal ended is not retried.
 *
 * @module
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Settings of {@link idempotencyKeys}. */
export interface IdempotencyOptions {
  /** Retries after the first attempt, for calls with a key. Default 2; 0 sends keys only. */
  retries?: number;
  /** The wait before the first retry, doubled for each next one. Default 200 ms. */
  backoffMs?: number;
}

/** Codes after which the outcome is open: a retry with the same key is safe. */
const RETRYABLE = new Set([Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Aborted]);

/**
 * The interceptor every platform client runs (transport.ts).
 *
 * @example
 * ```ts
 * createConnectTransport({ baseUrl, interceptors: [idempotencyKeys({ retries: 2 })] });
 * ```
 */
export function idempotencyKeys(options: IdempotencyOptions = {}): Interceptor {
  const retries = Math.max(0, options.retries ?? 2);
  const backoffMs = Math.max(0, options.backoffMs ?? 200);
  return (next) => async (req) => {
    if (req.stream || !hasIdempotencyKey(req.method.input)) return await next(req);
    const message = req.message as unknown as { idempotencyKey?: string };
    if (!message.idempotencyKey) message.idempotencyKey = crypto.randomUUID();
    for (let attempt = 0;; attempt++) {
      try {
        return await next(req);
      } catch (error) {
        const code = ConnectError.from(error).code;
        if (attempt >= retries || req.signal.aborted || !RETRYABLE.has(code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** attempt));
      }
    }
  };
}

function hasIdempotencyKey(input: DescMessage): boolean {
  return input.fields.some((field) => field.localName === "idempotencyKey");
}
