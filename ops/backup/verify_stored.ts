/**
 * Checks a stored dump against its manifest: the custom-format header, the size and the SHA-256
 * of every byte. Backup runs it on the new dump before retention deletes anything; restore runs it
 * before it touches any database.
 *
 * @module
 */
import { formatBytes } from "../shared/format.ts";
import { OpsError } from "../shared/errors.ts";
import { digestStream, isCustomFormat } from "./digest.ts";
import type { BackupManifest } from "./manifest.ts";
import type { BackupTarget } from "./targets/target.ts";

/** Options of {@link verifyStoredDump}. */
export interface VerifyStoredOptions {
  /** Also copies the bytes here while checking (restore downloads from S3 in the same pass). */
  copyTo?: WritableStream<Uint8Array>;
  onProgress?: (bytes: number) => void;
}

/**
 * Resolves when the stored dump matches the manifest; throws an {@link OpsError} that says what
 * differs otherwise.
 *
 * @example
 * ```ts
 * await verifyStoredDump(target, manifest);
 * ```
 */
export async function verifyStoredDump(
  target: BackupTarget,
  manifest: BackupManifest,
  options: VerifyStoredOptions = {},
): Promise<void> {
  const digest = await digestStream(
    await target.openDump(manifest.name),
    options.onProgress,
    options.copyTo,
  );
  const where = `${manifest.name} in ${target.description}`;
  if (digest.sizeBytes !== manifest.sizeBytes) {
    throw new OpsError(
      `backup ${where} is corrupted or truncated: ${
        formatBytes(digest.sizeBytes)
      } (${digest.sizeBytes} bytes) ` +
        `stored, the manifest says ${manifest.sizeBytes} bytes`,
      { hint: "use another backup (list them with `deno task restore`)" },
    );
  }
  if (digest.sha256 !== manifest.sha256) {
    throw new OpsError(
      `backup ${where} is corrupted: SHA-256 ${digest.sha256} does not match the manifest's ${manifest.sha256}`,
      { hint: "use another backup (list them with `deno task restore`)" },
    );
  }
  if (!isCustomFormat(digest.head)) {
    throw new OpsError(`backup ${where} is not a pg_dump custom-format archive`);
  }
}
