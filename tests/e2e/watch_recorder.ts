/**
 * A Watch stream read in the background for tests: every frame kept in order, waits for a
 * notification matching a predicate, and a stop that ends the call (as a browser closing its tab).
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Notification,
  NotificationKind,
  NotificationService,
  type WatchResponse,
} from "@platform/proto/notifications/v1";
import { type ClientFlavour, rpcClient } from "../harness/rpc_clients.ts";

/** One Watch call of one user. */
export class WatchRecorder {
  readonly frames: WatchResponse[] = [];
  /** Set when the stream ended with an error (other than our own cancel). */
  error?: ConnectError;
  ended = false;
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  private constructor(
    baseUrl: string,
    token: string,
    flavour: ClientFlavour,
    cursor: string,
  ) {
    const client = rpcClient(NotificationService, baseUrl, flavour, token);
    this.done = (async () => {
      try {
        for await (const frame of client.watch({ cursor }, { signal: this.abort.signal })) {
          this.frames.push(frame);
        }
      } catch (error) {
        const e = ConnectError.from(error);
        if (e.code !== Code.Canceled) this.error = e;
      } finally {
        this.ended = true;
      }
    })();
  }

  /**
   * Opens a Watch; resolves once its first frame (a keep_alive with the starting cursor) arrived,
   * or rejects with the call's error.
   */
  static async open(
    baseUrl: string,
    token: string,
    flavour: ClientFlavour = { protocol: "connect", http: "1.1" },
    cursor = "",
  ): Promise<WatchRecorder> {
    const recorder = new WatchRecorder(baseUrl, token, flavour, cursor);
    const deadline = Date.now() + 15_000;
    while (recorder.frames.length === 0) {
      if (recorder.error) throw recorder.error;
      if (recorder.ended) throw new Error("the Watch stream ended before its first frame");
      if (Date.now() > deadline) throw new Error("no first Watch frame within 15 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    return recorder;
  }

  /** The notifications received so far, in order. */
  get notifications(): Notification[] {
    return this.frames.flatMap((f) => f.frame.case === "notification" ? [f.frame.value] : []);
  }

  /** The cursor of the last frame received. */
  get cursor(): string {
    return this.frames.at(-1)?.cursor ?? "";
  }

  /** Waits for a notification of `kind` that `match` accepts; returns it. */
  async waitFor(
    kind: NotificationKind,
    match: (n: Notification) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.notifications.find((n) => n.kind === kind && match(n));
      if (found) return found;
      if (this.error) throw this.error;
      if (Date.now() > deadline) {
        throw new Error(
          `no ${NotificationKind[kind]} within ${timeoutMs} ms; got ${
            this.notifications.map((n) => NotificationKind[n.kind]).join(", ")
          }`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Ends the call (the client goes away) and waits for the reader to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
