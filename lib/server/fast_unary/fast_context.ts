/**
 * The handler context of a fast-path call: what connect-es's `createHandlerContext` provides,
 * with the costly parts made lazy. connect-es links two AbortControllers (deadline, request,
 * shutdown) and copies three Headers per call, and aborts the signal at the end (an Error with a
 * stack trace); here the signal exists only if someone reads it, and response headers and
 * trailers only if a handler touches them.
 *
 * @module
 */
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/** What a call knows when it starts. */
export interface FastCallInit {
  method: DescMethodUnary;
  service: DescService;
  protocolName: "connect" | "grpc-web";
  request: Request;
  values: ContextValues;
  /** The deadline the client asked for (connect-timeout-ms, grpc-timeout), if any. */
  timeoutMs: number | undefined;
  shutdownSignal: AbortSignal | undefined;
}

/**
 * A HandlerContext whose signal, response headers and trailers are created on first use.
 *
 * @example
 * ```ts ignore
 * const ctx = new FastContext(init);
 * await impl(message, ctx);
 * ctx.complete(); // aborts the signal if one was created, as connect-es does after every call
 * ```
 */
export class FastContext implements HandlerContext {
  readonly method: DescMethodUnary;
  readonly service: DescService;
  readonly protocolName: string;
  readonly requestMethod: string = "POST";
  readonly values: ContextValues;
  private readonly request: Request;
  private readonly deadline: number | undefined;
  private readonly shutdownSignal: AbortSignal | undefined;
  private controller?: AbortController;
  private timer?: ReturnType<typeof setTimeout>;
  private header?: Headers;
  private trailer?: Headers;

  constructor(init: FastCallInit) {
    this.method = init.method;
    this.service = init.service;
    this.protocolName = init.protocolName;
    this.request = init.request;
    this.values = init.values;
    this.shutdownSignal = init.shutdownSignal;
    this.deadline = init.timeoutMs === undefined ? undefined : Date.now() + init.timeoutMs;
  }

  get url(): string {
    return this.request.url;
  }

  get requestHeader(): Headers {
    return this.request.headers;
  }

  /** Aborts when the deadline passes, the client goes away or the server shuts down. */
  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    const abort = (reason: unknown) => {
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const sources = [this.request.signal, this.shutdownSignal];
    for (const source of sources) {
      if (!source) continue;
      if (source.aborted) abort(source.reason);
      else {
        source.addEventListener("abort", () => abort(source.reason), {
          once: true,
          signal: controller.signal,
        });
      }
    }
    if (this.deadline !== undefined) {
      const left = this.deadline - Date.now();
      const expire = () =>
        abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      if (left <= 0) expire();
      else this.timer = setTimeout(expire, left);
    }
    return controller.signal;
  }

  readonly timeoutMs = (): number | undefined =>
    this.deadline === undefined ? undefined : this.deadline - Date.now();

  get responseHeader(): Headers {
    return this.header ??= new Headers();
  }

  get responseTrailer(): Headers {
    return this.trailer ??= new Headers(
      this.protocolName === "grpc-web" ? { "grpc-status": "0" } : undefined,
    );
  }

  /** Response headers a handler set, if any. */
  get touchedHeader(): Headers | undefined {
    return this.header;
  }

  /** Response trailers a handler set, if any. */
  get touchedTrailer(): Headers | undefined {
    return this.trailer;
  }

  /** Ends the call: a signal handed out is aborted (with `reason` on failure), timers cleared. */
  complete(reason?: unknown): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
  }
}
