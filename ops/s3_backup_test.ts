/**
 * Backups in S3-compatible storage (s3rver on loopback): backup, list, test restore, restore
 * round trip, retention, multipart upload, a wrong bucket and a corrupted object.
 */
import assert from "node:assert/strict";
import S3rver from "s3rver";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { backupCli } from "./backup.ts";
import { S3Target } from "./backup/targets/s3.ts";
import { restoreCli } from "./restore.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { captureOutput } from "./shared/output.ts";
import { digestStream } from "./backup/digest.ts";
import { seedPlatform, snapshotRows, startPlatformDb } from "./testing/platform_db.ts";
import { writeFailingPgTools } from "./testing/fake_pg_tools.ts";
import { deadUrl } from "./testing/fake_service.ts";

Deno.test({
  name: "S3 backups",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const storage = await Deno.makeTempDir({ prefix: "fp-s3rver-" });
    const server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: storage,
      configureBuckets: [{ name: "fp-backups", configs: [] }],
    });
    const { port } = await server.run();
    const db = await startPlatformDb();
    try {
      await seedPlatform(db.sql, { users: 40, tasks: 300 });
      const before = await snapshotRows(db.sql);
      const env = {
        DATABASE_URL: db.url,
        // A restore clears the platform's Redis keys: never those of the machine's Redis on 6379.
        REDIS_URL: deadUrl("redis"),
        S3_BUCKET: "fp-backups",
        S3_PREFIX: "db-backups",
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
      };
      const names: string[] = [];

      await t.step("backup goes to S3 when S3_BUCKET is set; retention keeps N there", async () => {
        for (let i = 0; i < 3; i++) {
          const cap = captureOutput();
          assert.equal(await backupCli(["--keep", "2", "--json"], cap.output, env), 0, cap.text());
          const result = JSON.parse(cap.stdout.join(""));
          assert.equal(result.target, `s3://fp-backups/db-backups/ at http://127.0.0.1:${port}`);
          names.push(result.manifest.name);
          assert.ok(!cap.text().includes("S3RVER"), "credentials never printed");
        }
        const target = new S3Target(loadOpsConfig(env).s3!);
        try {
          const listed = await target.list();
          assert.deepEqual(listed.map((b) => b.name), names.slice(-2).reverse());
          assert.ok(listed.every((b) => b.manifest?.rowCounts.tasks === 300));
        } finally {
          target.close();
        }
      });

      const name = names.at(-1)!;
      await t.step("restore lists, verifies and restores from S3", async () => {
        let cap = captureOutput();
        assert.equal(await restoreCli([], cap.output, env), 0);
        assert.match(cap.text(), new RegExp(`Backups in s3://fp-backups/db-backups/`));
        assert.match(cap.text(), new RegExp(name));

        cap = captureOutput();
        assert.equal(await restoreCli(["--verify", name], cap.output, env), 0, cap.text());
        assert.match(cap.text(), /Test restore OK/);

        await db.sql`DELETE FROM proposal_outbox`;
        await db.sql`UPDATE tasks SET title = 'x'`;
        cap = captureOutput();
        assert.equal(
          await restoreCli([name, "--yes", "--drop-old"], cap.output, env),
          0,
          cap.text(),
        );
        assert.deepEqual(await snapshotRows(db.sql), before);
      });

      await t.step("a corrupted object in S3 is refused", async () => {
        const target = new S3Target(loadOpsConfig(env).s3!);
        try {
          await target.client.send(
            new PutObjectCommand({
              Bucket: "fp-backups",
              Key: `db-backups/${name}.dump`,
              Body: "PGDMP but not the same bytes",
            }),
          );
        } finally {
          target.close();
        }
        const cap = captureOutput();
        await assert.rejects(
          restoreCli([name, "--yes"], cap.output, env),
          /corrupted or truncated.*Nothing was changed/,
        );
        assert.deepEqual(await snapshotRows(db.sql), before);
      });

      await t.step("a wrong bucket is a clear error", async () => {
        const cap = captureOutput();
        await assert.rejects(
          backupCli([], cap.output, { ...env, S3_BUCKET: "no-such-bucket" }),
          /cannot use bucket: bucket "no-such-bucket" does not exist/,
        );
        await assert.rejects(
          restoreCli([], cap.output, { ...env, S3_BUCKET: "no-such-bucket" }),
          /bucket "no-such-bucket" does not exist/,
        );
      });

      await t.step("a pg_dump failing half-way leaves no object behind", async () => {
        const failing = await Deno.makeTempDir({ prefix: "fp-failbin-" });
        await writeFailingPgTools(failing);
        try {
          const cap = captureOutput();
          await assert.rejects(
            backupCli(["--keep", "1"], cap.output, { ...env, PG_BIN_DIR: failing }),
            /pg_dump exited with 1.*no old backup was deleted/,
          );
        } finally {
          await Deno.remove(failing, { recursive: true });
        }
        const target = new S3Target(loadOpsConfig(env).s3!);
        try {
          assert.equal((await target.list()).length, 2);
        } finally {
          target.close();
        }
      });

      await t.step("large dumps go up in parts", async () => {
        const target = new S3Target(loadOpsConfig(env).s3!, 5 * 1024 * 1024);
        try {
          const size = 12 * 1024 * 1024 + 123;
          const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 256);
          let sent = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              const n = Math.min(chunk.length, size - sent);
              if (n === 0) return controller.close();
              controller.enqueue(chunk.slice(0, n));
              sent += n;
            },
          });
          await target.writeDump("multipart_test", body);
          const digest = await digestStream(await target.openDump("multipart_test"));
          assert.equal(digest.sizeBytes, size);
          await target.remove("multipart_test");
        } finally {
          target.close();
        }
      });
    } finally {
      await db.close();
      await server.close();
      await Deno.remove(storage, { recursive: true }).catch(() => {});
    }
  },
});
