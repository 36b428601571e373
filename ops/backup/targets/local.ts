/**
 * Backups in a local directory (default `./backups`): `<name>.dump` and `<name>.manifest.json`.
 * The dump is written as `<name>.dump.partial`, synced, then renamed, so a crash never leaves
 * a dump that looks complete.
 *
 * @module
 */
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

/**
 * A directory of backups.
 *
 * @example
 * ```ts
 * const target = new LocalTarget("./backups");
 * for (const backup of await target.list()) console.log(backup.name);
 * ```
 */
export class LocalTarget implements BackupTarget {
  readonly description: string;

  /**
   * Creates the target.
   *
   * @param dir The directory (created by {@linkcode LocalTarget.checkWritable} when missing).
   */
  constructor(readonly dir: string) {
    this.description = `local directory ${dir}`;
  }

  /** The path of `file` in the directory. */
  private path(file: string): string {
    return `${this.dir.replace(/\/+$/, "")}/${file}`;
  }

  async checkWritable(): Promise<void> {
    try {
      await Deno.mkdir(this.dir, { recursive: true });
      const probe = this.path(`.write-test-${crypto.randomUUID()}`);
      await Deno.writeTextFile(probe, "ok");
      await Deno.remove(probe);
    } catch (error) {
      throw new OpsError(`backup directory ${this.dir} is not writable: ${errorMessage(error)}`, {
        cause: error,
        hint: "set BACKUP_DIR to a writable directory (or fix its permissions)",
      });
    }
  }

  async writeDump(name: string, data: ReadableStream<Uint8Array>): Promise<void> {
    const final = this.path(dumpFileName(name));
    const partial = `${final}.partial`;
    try {
      const file = await Deno.open(partial, { write: true, create: true, truncate: true });
      await data.pipeTo(file.writable);
      const sync = await Deno.open(partial, { read: true });
      try {
        await sync.sync();
      } finally {
        sync.close();
      }
      await Deno.rename(partial, final);
    } catch (error) {
      await Deno.remove(partial).catch(() => {});
      throw error;
    }
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    const final = this.path(manifestFileName(manifest.name));
    await Deno.writeTextFile(`${final}.partial`, stringifyManifest(manifest));
    await Deno.rename(`${final}.partial`, final);
  }

  async list(): Promise<StoredBackup[]> {
    const files = new BackupFiles();
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (!entry.isFile || !/\.(dump|manifest\.json)$/.test(entry.name)) continue;
        files.add(entry.name, (await Deno.stat(this.path(entry.name))).size);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw new OpsError(`cannot list ${this.dir}: ${errorMessage(error)}`, { cause: error });
    }
    return await files.backups((name) => this.readManifest(name), manifestMismatch);
  }

  async readManifest(name: string): Promise<BackupManifest> {
    const path = this.path(manifestFileName(name));
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new OpsError(`no manifest for backup "${name}" (${path}): ${errorMessage(error)}`, {
        cause: error,
        hint:
          "without its manifest a dump cannot be verified; list backups with `deno task restore`",
      });
    }
    try {
      return parseManifest(text);
    } catch (error) {
      throw new OpsError(`manifest ${path} is invalid: ${errorMessage(error)}`, { cause: error });
    }
  }

  async openDump(name: string): Promise<ReadableStream<Uint8Array>> {
    const path = this.path(dumpFileName(name));
    try {
      return (await Deno.open(path, { read: true })).readable;
    } catch (error) {
      throw new OpsError(`cannot read dump ${path}: ${errorMessage(error)}`, { cause: error });
    }
  }

  localDumpPath(name: string): string {
    return this.path(dumpFileName(name));
  }

  async remove(name: string): Promise<void> {
    // Manifest first: a dump without manifest is never used, a manifest without dump would be.
    await Deno.remove(this.path(manifestFileName(name))).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.remove(this.path(dumpFileName(name))).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  close(): void {}
}
