/**
 * Backups in S3-compatible object storage: `s3://<bucket>/<prefix><name>.dump` (multipart upload
 * for large dumps, streamed, nothing on local disk) and `<name>.manifest.json` beside it.
 * A multipart upload becomes visible only once complete, and is aborted on failure.
 *
 * @module
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Settings } from "../../shared/config.ts";
import { errorMessage, OpsError } from "../../shared/errors.ts";
import {
  type BackupManifest,
  dumpFileName,
  manifestFileName,
  manifestMismatch,
  parseManifest,
  stringifyManifest,
} from "../manifest.ts";
import { BackupFiles, type BackupTarget, type StoredBackup } from "./target.ts";

/** Multipart part size: S3 allows 10,000 parts, so 64 MiB parts take dumps up to 640 GiB. */
export const PART_SIZE = 64 * 1024 * 1024;

/**
 * An S3 bucket (and prefix) of backups.
 *
 * @example
 * ```ts
 * const target = new S3Target({ bucket: "backups", prefix: "db-backups/", region: "eu-west-1", forcePathStyle: false });
 * await target.checkWritable();
 * ```
 */
export class S3Target implements BackupTarget {
  /** For messages: `s3://<bucket>/<prefix>`, and the endpoint when set. */
  readonly description: string;
  /** The SDK client the target uses (closed by {@linkcode S3Target.close}). */
  readonly client: S3Client;

  /**
   * Creates the target (no request is made until it is used).
   *
   * @param settings The bucket, prefix, endpoint and credentials.
   * @param partSize The multipart upload's part size in bytes.
   */
  constructor(readonly settings: S3Settings, private readonly partSize: number = PART_SIZE) {
    const endpoint = settings.endpoint ? ` at ${new URL(settings.endpoint).origin}` : "";
    this.description = `s3://${settings.bucket}/${settings.prefix}${endpoint}`;
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: 3,
      credentials: settings.accessKeyId && settings.secretAccessKey
        ? {
          accessKeyId: settings.accessKeyId,
          secretAccessKey: settings.secretAccessKey,
          sessionToken: settings.sessionToken,
        }
        : undefined,
    });
  }

  /** The object key of `file`: the prefix, then the file name. */
  private key(file: string): string {
    return `${this.settings.prefix}${file}`;
  }

  async checkWritable(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch (error) {
      throw this.error(error, "cannot use bucket");
    }
  }

  async writeDump(name: string, data: ReadableStream<Uint8Array>): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: this.key(dumpFileName(name)),
        Body: data,
        ContentType: "application/octet-stream",
      },
      partSize: this.partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      await upload.abort().catch(() => {});
      throw this.error(error, "upload failed");
    }
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: this.key(manifestFileName(manifest.name)),
          Body: stringifyManifest(manifest),
          ContentType: "application/json",
        }),
      );
    } catch (error) {
      throw this.error(error, "manifest upload failed");
    }
  }

  async list(): Promise<StoredBackup[]> {
    const files = new BackupFiles();
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.settings.bucket,
            Prefix: this.settings.prefix,
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) {
          const file = (object.Key ?? "").slice(this.settings.prefix.length);
          if (!file.includes("/")) files.add(file, object.Size ?? 0);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.error(error, "cannot list backups");
    }
    return await files.backups((name) => this.readManifest(name), manifestMismatch);
  }

  async readManifest(name: string): Promise<BackupManifest> {
    const key = this.key(manifestFileName(name));
    let text: string;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }),
      );
      text = await object.Body!.transformToString();
    } catch (error) {
      throw this.error(
        error,
        `no manifest for backup "${name}" (s3://${this.settings.bucket}/${key})`,
      );
    }
    try {
      return parseManifest(text);
    } catch (error) {
      throw new OpsError(
        `manifest s3://${this.settings.bucket}/${key} is invalid: ${errorMessage(error)}`,
      );
    }
  }

  async openDump(name: string): Promise<ReadableStream<Uint8Array>> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(dumpFileName(name)) }),
      );
      return object.Body!.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (error) {
      throw this.error(error, `cannot read dump of "${name}"`);
    }
  }

  localDumpPath(): undefined {
    return undefined;
  }

  async remove(name: string): Promise<void> {
    for (const file of [manifestFileName(name), dumpFileName(name)]) {
      try {
        await this.client.send(
          new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.key(file) }),
        );
      } catch (error) {
        throw this.error(error, `cannot delete ${file}`);
      }
    }
  }

  close(): void {
    this.client.destroy();
  }

  /** An OpsError that says what failed and what to check, for an SDK error. */
  private error(error: unknown, what: string): OpsError {
    if (error instanceof OpsError) return error;
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const where = this.description;
    if (e.name === "NoSuchBucket" || (e.name === "NotFound" && what === "cannot use bucket")) {
      return new OpsError(`${what}: bucket "${this.settings.bucket}" does not exist (${where})`, {
        cause: error,
        hint: "check S3_BUCKET, S3_ENDPOINT and S3_REGION",
      });
    }
    if (e.name === "NoSuchKey" || (status === 404 && e.name === "NotFound")) {
      return new OpsError(`${what}: not found in ${where}`, { cause: error });
    }
    if (
      status === 403 ||
      ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"].includes(e.name ?? "")
    ) {
      return new OpsError(`${what}: access denied by ${where} (${e.name ?? status})`, {
        cause: error,
        hint: "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy",
      });
    }
    return new OpsError(`${what}: ${where}: ${errorMessage(error)}`, {
      cause: error,
      hint: "check S3_ENDPOINT is reachable and the credentials are valid",
    });
  }
}
