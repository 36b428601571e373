/**
 * A `Deno.Conn` as a Node.js Duplex stream, so that node:http2 can serve a connection that Deno
 * accepted (node:http2 takes any Duplex through its server's `connection` event).
 *
 * @module
 */
import { Duplex } from "node:stream";

/**
 * Wraps the connection; destroying the stream closes the connection.
 *
 * @example
 * ```ts
 * http2Server.emit("connection", connDuplex(conn));
 * ```
 */
export function connDuplex(conn: Deno.Conn): Duplex {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the peer or a failed read
    }
  };
  const duplex = new Duplex({
    read() {
      reader.read().then(
        ({ done, value }) => {
          if (done) this.push(null);
          else this.push(value);
        },
        (error) => this.destroy(error),
      );
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writer.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      writer.close().then(() => callback(), () => callback());
    },
    destroy(error, callback) {
      close();
      callback(error);
    },
  });
  const remote = conn.remoteAddr as Deno.NetAddr;
  Object.assign(duplex, {
    remoteAddress: remote.hostname,
    remotePort: remote.port,
    remoteFamily: remote.hostname.includes(":") ? "IPv6" : "IPv4",
    // node:http2 calls these on sockets; a Deno connection has its own or none.
    setNoDelay: () => duplex,
    setKeepAlive: () => duplex,
    setTimeout: () => duplex,
  });
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  return duplex;
}
