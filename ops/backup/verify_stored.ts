/**
 * Checks a stored dump against its manifest: the custom-format header, the size and the SHA-256
 * of every byte. Backup runs it on the new dump before retention deletes anything; restore runs it
 * before it touches any database.
 *
 * @module
 */
import { formatBytes } from "../shared/format.ts";
import { errorMessage, OpsError } from "../shared/errors.ts";
import { digestStream, isCustomFormat, type StreamDigest } from "./digest.ts";
import { type BackupManifest, manifestMismatch } from "./manifest.ts";
import type { BackupTarget } from "./targets/target.ts";

/** Options of {@link verifyStoredDump}. */
export interface VerifyStoredOptions {
  /** Also copies the bytes here while checking (restore downloads from S3 in the same pass). */
  copyTo?: WritableStream<Uint8Array>;
  /** Called with the number of bytes checked so far. */
  onProgress?: (bytes: number) => void;
}

/**
 * Resolves when the dump stored as `name` matches the manifest; throws an {@link OpsError} that
 * says what differs otherwise. The manifest must be `name`'s own (see {@link manifestMismatch}):
 * the bytes checked are exactly those of `name`.
 *
 * @example
 * ```ts
 * await verifyStoredDump(target, name, manifest);
 * ```
 */
export async function verifyStoredDump(
  target: BackupTarget,
  name: string,
  manifest: BackupManifest,
  options: VerifyStoredOptions = {},
): Promise<void> {
  const where = `${name} in ${target.description}`;
  requireOwnManifest(name, manifest, where);
  const digest = await digestStream(
    await target.openDump(name),
    options.onProgress,
    options.copyTo,
  );
  checkDigest(digest, manifest, where);
}

/**
 * Resolves when the local file `path` (the very file pg_restore will read) matches the manifest
 * of backup `name`; throws an {@link OpsError} otherwise.
 *
 * @example
 * ```ts
 * await verifyDumpFile("backups/fp_20241019_153000_123.dump", "fp_20241019_153000_123", manifest);
 * ```
 */
export async function verifyDumpFile(
  path: string,
  name: string,
  manifest: BackupManifest,
  options: Omit<VerifyStoredOptions, "copyTo"> = {},
): Promise<void> {
  requireOwnManifest(name, manifest, path);
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = (await Deno.open(path, { read: true })).readable;
  } catch (error) {
    throw new OpsError(`cannot read dump ${path}: ${errorMessage(error)}`, { cause: error });
  }
  checkDigest(await digestStream(stream, options.onProgress), manifest, path);
}

function requireOwnManifest(name: string, manifest: BackupManifest, where: string): void {
  const mismatch = manifestMismatch(name, manifest);
  if (mismatch) {
    throw new OpsError(`backup ${where} cannot be trusted: ${mismatch}`, {
      hint: "a dump is only restored with its own manifest; restore the backup by its original " +
        "name (list them with `deno task restore`)",
    });
  }
}

function checkDigest(
  digest: StreamDigest,
  manifest: BackupManifest,
  where: string,
): void {
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
