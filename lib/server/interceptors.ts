/**
 * The server's interceptors: one maps every error to a Connect code (logging the unexpected),
 * one records codes and message counts on the call record for metrics.
 *
 * @module
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { callRecordKey } from "./call_record.ts";

/**
 * Turns domain and dependency errors into ConnectErrors. An unexpected error is logged with its
 * details and answered as `internal` with a message that leaks nothing.
 *
 * @example
 * ```ts ignore
 * createConnectRouter({ interceptors: [errorInterceptor(logger)] });
 * ```
 */
export function errorInterceptor(logger: Logger): Interceptor {
  const map = (error: unknown, procedure: string): ConnectError => {
    // connect-es reports a request it cannot decode (read inside the call for streams) as
    // internal; the caller sent it, so it is invalid_argument.
    if (
      error instanceof ConnectError && error.code === Code.Internal &&
      /^parse (binary|JSON)/.test(error.rawMessage)
    ) {
      return new ConnectError(error.rawMessage, Code.InvalidArgument, undefined, undefined, error);
    }
    const mapped = toConnectError(error);
    if (mapped) {
      if (
        mapped.code === Code.Unavailable || mapped.code === Code.DeadlineExceeded ||
        mapped.code === Code.Unknown
      ) {
        logger.warn("dependency failure", { procedure, error: describe(error) });
      }
      return mapped;
    }
    logger.error("unexpected error", { procedure, error: describe(error) });
    return new ConnectError("internal error; it has been logged", Code.Internal);
  };
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStream(res.message, (e) => map(e, procedure)) };
    } catch (error) {
      throw map(error, procedure);
    }
  };
}

/**
 * Counts messages and records the final code of each call on its {@link CallRecord}.
 *
 * @example
 * ```ts ignore
 * createConnectRouter({ interceptors: [metricsInterceptor(), errorInterceptor(logger)] });
 * ```
 */
export function metricsInterceptor(): Interceptor {
  return (next) => async (req) => {
    const record = req.contextValues.get(callRecordKey);
    if (!record) return await next(req);
    if (req.stream) {
      req = { ...req, message: countStream(req.message, () => record.received++) };
    } else {
      record.received++;
    }
    try {
      const res = await next(req);
      if (!res.stream) {
        record.sent++;
        record.code = "OK";
        return res;
      }
      const counted = countStream(res.message, () => record.sent++);
      return {
        ...res,
        message: endStream(counted, (error) => {
          record.code = error === undefined ? "OK" : codeName(error);
        }),
      };
    } catch (error) {
      record.code = codeName(error);
      throw error;
    }
  };
}

/**
 * The go-grpc-prometheus name of an error's code, such as "InvalidArgument".
 *
 * @example
 * ```ts ignore
 * codeName(new ConnectError("x", Code.NotFound)); // "NotFound"
 * ```
 */
export function codeName(error: unknown): string {
  const code = error instanceof ConnectError ? error.code : Code.Unknown;
  return Code[code] ?? "Unknown";
}

function describe(error: unknown): unknown {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack?.split("\n", 4) };
  }
  return String(error);
}

async function* mapStream<T>(
  source: AsyncIterable<T>,
  map: (error: unknown) => ConnectError,
): AsyncIterable<T> {
  try {
    yield* source;
  } catch (error) {
    throw map(error);
  }
}

async function* countStream<T>(source: AsyncIterable<T>, count: () => void): AsyncIterable<T> {
  for await (const item of source) {
    count();
    yield item;
  }
}

async function* endStream<T>(
  source: AsyncIterable<T>,
  onEnd: (error: unknown | undefined) => void,
): AsyncIterable<T> {
  let failed: unknown;
  try {
    yield* source;
  } catch (error) {
    failed = error ?? new Error("stream failed");
    throw error;
  } finally {
    onEnd(failed);
  }
}
