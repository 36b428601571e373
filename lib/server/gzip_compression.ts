/**
 * gzip for the Connect and gRPC-web protocols (`content-encoding`, `connect-content-encoding`,
 * `grpc-encoding` and their accept headers), as connect-es's `Compression` interface wants it.
 * Decompression is bounded by the message size limit, so a small "zip bomb" cannot grow past it.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { promisify } from "node:util";
import zlib from "node:zlib";

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/**
 * gzip: compresses responses the client accepts it for, decompresses requests that declare it.
 * A corrupt body is `invalid_argument`; one that inflates past `readMaxBytes` is
 * `resource_exhausted`.
 *
 * @example
 * ```ts ignore
 * createConnectRouter({ acceptCompression: [compressionGzip] });
 * ```
 */
export const compressionGzip: Compression = {
  name: "gzip",
  async compress(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await gzip(bytes));
  },
  async decompress(bytes: Uint8Array, readMaxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return new Uint8Array(await gunzip(bytes, { maxOutputLength: readMaxBytes }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
        throw new ConnectError(
          `message is larger than configured readMaxBytes ${readMaxBytes} after decompression`,
          Code.ResourceExhausted,
        );
      }
      throw new ConnectError("the gzip body could not be decompressed", Code.InvalidArgument);
    }
  },
};
