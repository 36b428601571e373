/**
 * A minimal Redis pub/sub subscriber (RESP2) on a Deno TCP or TLS connection: it subscribes to one
 * channel, pings on request and reconnects by itself. The coherent cache pings Redis forty times a
 * second over its invalidation connection; through ioredis and Deno's Node stream emulation one ping
 * cost about as much CPU as 5 RPCs, here it is one small write and one small read.
 *
 * @module
 */

/** What the subscriber reports. */
export interface SubscriberEvents {
  /** A message published on the channel. */
  message(payload: string): void;
  /** The answer to a ping sent at `sentAt` (performance.now()). */
  pong(sentAt: number): void;
  /** Subscribed on a new connection (answers to later pings follow everything published since). */
  connected(): void;
  /** The connection is gone; whatever was published until it is back is lost. */
  disconnected(reason: string): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Subscribes to `channel` at `url` (redis:// or rediss://, with optional user and password).
 *
 * @example
 * ```ts ignore
 * const sub = new RedisSubscriber("redis://127.0.0.1:6379", "fp:users:profile-invalidations", {
 *   message: (key) => cache.drop(key),
 *   pong: (sentAt) => renewLease(sentAt),
 *   connected: () => {},
 *   disconnected: () => {},
 * });
 * sub.ping();
 * ```
 */
export class RedisSubscriber {
  private conn?: Deno.Conn;
  private subscribed = false;
  private closed = false;
  private pings: number[] = [];
  private attempt = 0;
  private readonly target: URL;

  constructor(
    url: string,
    private readonly channel: string,
    private readonly on: SubscriberEvents,
  ) {
    this.target = new URL(url);
    void this.run();
  }

  /** True while subscribed. */
  get ready(): boolean {
    return this.subscribed;
  }

  /** How many pings wait for their answer. */
  get outstanding(): number {
    return this.pings.length;
  }

  /** Sends a ping; false when not subscribed. */
  ping(): boolean {
    if (!this.subscribed || !this.conn) return false;
    this.pings.push(performance.now());
    this.write("*1\r\n$4\r\nPING\r\n");
    return true;
  }

  /** Stops for good. */
  close(): void {
    this.closed = true;
    try {
      this.conn?.close();
    } catch { /* already closed */ }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let reason = "connection closed";
      try {
        await this.session();
      } catch (error) {
        reason = (error as Error).message;
      }
      const wasSubscribed = this.subscribed;
      this.subscribed = false;
      this.pings = [];
      try {
        this.conn?.close();
      } catch { /* already closed */ }
      this.conn = undefined;
      if (this.closed) return;
      if (wasSubscribed || this.attempt === 0) this.on.disconnected(reason);
      const delay = Math.min(100 * 2 ** this.attempt++, 1000);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        Deno.unrefTimer(timer);
      });
    }
  }

  private async session(): Promise<void> {
    const hostname = this.target.hostname.replace(/^\[|\]$/g, "");
    const port = Number(this.target.port || 6379);
    const connect = this.target.protocol === "rediss:"
      ? Deno.connectTls({ hostname, port })
      : Deno.connect({ hostname, port });
    const timeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new Error("connect timed out")), 1000);
      Deno.unrefTimer(timer);
      connect.finally(() => clearTimeout(timer)).catch(() => {});
    });
    const conn = await Promise.race([connect, timeout]);
    conn.unref(); // a subscriber alone does not keep the process running
    this.conn = conn;
    if (this.closed) return;
    const password = decodeURIComponent(this.target.password);
    const username = decodeURIComponent(this.target.username);
    if (password) this.command(username ? ["AUTH", username, password] : ["AUTH", password]);
    this.command(["SUBSCRIBE", this.channel]);
    const parser = new RespParser();
    const buffer = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("connection closed by Redis");
      parser.push(buffer.subarray(0, n));
      for (let reply = parser.next(); reply !== undefined; reply = parser.next()) {
        this.handle(reply);
      }
    }
  }

  private handle(reply: RespValue): void {
    if (reply instanceof Error) throw reply;
    if (!Array.isArray(reply)) return; // +OK to AUTH
    const kind = String(reply[0]).toLowerCase();
    if (kind === "message" && reply[1] === this.channel) {
      this.on.message(String(reply[2]));
    } else if (kind === "pong") {
      const sentAt = this.pings.shift();
      if (sentAt !== undefined) this.on.pong(sentAt);
    } else if (kind === "subscribe") {
      this.subscribed = true;
      this.attempt = 0;
      this.on.connected();
    }
  }

  private command(args: string[]): void {
    let out = `*${args.length}\r\n`;
    for (const arg of args) out += `$${encoder.encode(arg).length}\r\n${arg}\r\n`;
    this.write(out);
  }

  private writing: Promise<void> = Promise.resolve();

  /** Queues a write (in order, all of it); a failure closes the connection, which reconnects. */
  private write(text: string): void {
    const conn = this.conn;
    if (!conn) return;
    const bytes = encoder.encode(text);
    this.writing = this.writing.then(async () => {
      for (let offset = 0; offset < bytes.length;) {
        offset += await conn.write(bytes.subarray(offset));
      }
    }).catch(() => {
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  }
}

/** A RESP2 value: string, number, null, array, or an error reply. */
export type RespValue = string | number | null | Error | RespValue[];

/**
 * An incremental RESP2 reply parser.
 *
 * @example
 * ```ts
 * const parser = new RespParser();
 * parser.push(new TextEncoder().encode("*2\r\n$4\r\npong\r\n$0\r\n\r\n"));
 * parser.next(); // ["pong", ""]
 * ```
 */
export class RespParser {
  private data = new Uint8Array(0);
  private offset = 0;

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    if (this.offset === this.data.length) {
      this.data = chunk.slice();
    } else {
      const rest = this.data.subarray(this.offset);
      const joined = new Uint8Array(rest.length + chunk.length);
      joined.set(rest);
      joined.set(chunk, rest.length);
      this.data = joined;
    }
    this.offset = 0;
  }

  /** The next complete reply, or undefined until more bytes arrive. */
  next(): RespValue | undefined {
    const start = this.offset;
    const value = this.read();
    if (value === INCOMPLETE) {
      this.offset = start;
      return undefined;
    }
    return value;
  }

  private read(): RespValue | typeof INCOMPLETE {
    const line = this.line();
    if (line === undefined) return INCOMPLETE;
    const type = line[0];
    const rest = line.slice(1);
    switch (type) {
      case "+":
        return rest;
      case "-":
        return new Error(`Redis: ${rest}`);
      case ":":
        return Number(rest);
      case "$": {
        const length = Number(rest);
        if (length < 0) return null;
        if (this.data.length - this.offset < length + 2) return INCOMPLETE;
        const text = decoder.decode(this.data.subarray(this.offset, this.offset + length));
        this.offset += length + 2;
        return text;
      }
      case "*": {
        const count = Number(rest);
        if (count < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.read();
          if (item === INCOMPLETE) return INCOMPLETE;
          items.push(item);
        }
        return items;
      }
      default:
        return new Error(`Redis: unexpected reply ${JSON.stringify(line.slice(0, 40))}`);
    }
  }

  private line(): string | undefined {
    for (let i = this.offset; i + 1 < this.data.length; i++) {
      if (this.data[i] === 13 && this.data[i + 1] === 10) {
        const text = decoder.decode(this.data.subarray(this.offset, i));
        this.offset = i + 2;
        return text;
      }
    }
    return undefined;
  }
}

const INCOMPLETE = Symbol("incomplete");
