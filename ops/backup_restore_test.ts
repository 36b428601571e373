/**
 * Backup and restore against a real throwaway PostgreSQL: round trip with row-level equality,
 * test restore, retention, and every refusal (corrupted, truncated, unconfirmed, other database,
 * missing target, missing or old pg_dump, unreachable server, unwritable target).
 */
import assert from "node:assert/strict";
import { backupCli } from "./backup.ts";
import { runBackup } from "./backup/run_backup.ts";
import { stringifyManifest } from "./backup/manifest.ts";
import { LocalTarget } from "./backup/targets/local.ts";
import type { BackupTarget } from "./backup/targets/target.ts";
import { restoreCli } from "./restore.ts";
import { runRestore, runVerify } from "./restore/run_restore.ts";
import { OpsError } from "./shared/errors.ts";
import { captureOutput } from "./shared/output.ts";
import { withDatabase } from "./shared/db.ts";
import { findPgTool } from "./shared/pg_tools.ts";
import { connectRedisOnce } from "./shared/redis.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import { writeFailingPgTools } from "./testing/fake_pg_tools.ts";
import { deadUrl, startFakeService } from "./testing/fake_service.ts";
import {
  client,
  type PlatformDb,
  seedPlatform,
  snapshotRows,
  startPlatformDb,
} from "./testing/platform_db.ts";

let db: PlatformDb;
/** The cache a restore clears: the test's own Redis, never the machine's on 6379. */
let redis: RedisServer;

async function databases(): Promise<string[]> {
  const rows = await db.sql<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1`;
  return rows.map((r) => r.datname);
}

async function backupTo(dir: string, keep = 7) {
  const cap = captureOutput();
  const result = await runBackup({
    databaseUrl: db.url,
    target: new LocalTarget(dir),
    keep,
    output: cap.output,
  });
  return { result, cap };
}

/**
 * A restore's swap disconnects every session of the database, the test's own pool included; a
 * query racing the pool's notice of that can fail with CONNECTION_CLOSED. Wait until the pool
 * answers again on each of its connections.
 */
async function settle() {
  for (let attempt = 0; attempt < 10; attempt++) {
    const results = await Promise.allSettled([db.sql`SELECT 1`, db.sql`SELECT 1`]);
    if (results.every((r) => r.status === "fulfilled")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function vandalise() {
  await settle();
  await db.sql`DELETE FROM proposal_outbox`;
  await db.sql`UPDATE users SET display_name = 'changed', is_online = NOT is_online`;
  await db.sql`DELETE FROM task_transitions WHERE id % 2 = 0`;
  await db.sql`INSERT INTO task_processed_events (event_id) VALUES ('after-backup')`;
}

Deno.test({
  name: "backup and restore",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    db = await startPlatformDb();
    redis = await RedisServer.start();
    await seedPlatform(db.sql, { users: 60, tasks: 400 });
    const dir = await Deno.makeTempDir({ prefix: "fp-backups-" });
    try {
      const before = await snapshotRows(db.sql);
      const { result } = await backupTo(dir);
      const name = result.manifest.name;

      await t.step("the manifest describes the dump", async () => {
        const manifest = JSON.parse(await Deno.readTextFile(`${dir}/${name}.manifest.json`));
        assert.equal(manifest.database, "freelance_platform");
        assert.equal(manifest.format, "custom");
        assert.equal(manifest.rowCounts.tasks, 400);
        assert.equal(manifest.rowCounts.users, 60);
        assert.equal(manifest.sizeBytes, (await Deno.stat(`${dir}/${name}.dump`)).size);
        assert.match(manifest.sha256, /^[0-9a-f]{64}$/);
        assert.equal(manifest.postgresMajor, 15);
        const [{ id }] = await db.sql<{ id: string }[]>`
          SELECT system_identifier::text AS id FROM pg_control_system()`;
        assert.equal(manifest.systemIdentifier, id);
        assert.ok(manifest.startedAt <= manifest.finishedAt);
        const head = (await Deno.readFile(`${dir}/${name}.dump`)).subarray(0, 5);
        assert.equal(new TextDecoder().decode(head), "PGDMP");
      });

      await t.step("--verify restores into a scratch database and drops it", async () => {
        const dbsBefore = await databases();
        const cap = captureOutput();
        const code = await restoreCli(["--verify", `${dir}/${name}.dump`], cap.output, {
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
        });
        assert.equal(code, 0, cap.text());
        assert.match(cap.text(), /Test restore OK/);
        assert.match(cap.text(), /tasks\s+400\s+400\s+ok/);
        assert.deepEqual(await databases(), dbsBefore);
      });

      await t.step("a corrupted dump is refused before anything is touched", async () => {
        const copy = `${dir}/corrupt`;
        await Deno.mkdir(copy);
        await Deno.copyFile(`${dir}/${name}.manifest.json`, `${copy}/${name}.manifest.json`);
        const bytes = await Deno.readFile(`${dir}/${name}.dump`);
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        await Deno.writeFile(`${copy}/${name}.dump`, bytes);
        await vandalise();
        const current = await snapshotRows(db.sql);
        const dbsBefore = await databases();
        const cap = captureOutput();
        await assert.rejects(
          runRestore({
            databaseUrl: db.url,
            target: new LocalTarget(copy),
            name,
            output: cap.output,
            yes: true,
          }),
          (error: Error) => {
            assert.ok(error instanceof OpsError);
            assert.match(error.message, /corrupted: SHA-256 .* does not match/);
            assert.match(error.message, /Nothing was changed/);
            return true;
          },
        );
        // Truncated: the size check names it.
        await Deno.writeFile(`${copy}/${name}.dump`, bytes.subarray(0, 1000));
        await assert.rejects(
          runVerify({
            databaseUrl: db.url,
            target: new LocalTarget(copy),
            name,
            output: cap.output,
          }),
          /corrupted or truncated: .* the manifest says/,
        );
        assert.deepEqual(await snapshotRows(db.sql), current);
        assert.deepEqual(await databases(), dbsBefore);
      });

      await t.step(
        "a manifest copied beside another dump is refused: no checksum OK for other bytes",
        async () => {
          // copy.manifest.json is name's manifest; copy.dump is truncated; name.dump is intact.
          await Deno.copyFile(`${dir}/${name}.manifest.json`, `${dir}/copy.manifest.json`);
          const bytes = await Deno.readFile(`${dir}/${name}.dump`);
          await Deno.writeFile(`${dir}/copy.dump`, bytes.subarray(0, 1000));
          const dbsBefore = await databases();
          const current = await snapshotRows(db.sql);
          try {
            for (const run of [runVerify, runRestore]) {
              const cap = captureOutput();
              await assert.rejects(
                run({
                  databaseUrl: db.url,
                  target: new LocalTarget(dir),
                  name: "copy",
                  output: cap.output,
                  yes: true,
                }),
                (error: Error) => {
                  assert.ok(error instanceof OpsError, String(error));
                  assert.match(
                    error.message,
                    new RegExp(
                      `backup copy in .* cannot be trusted: its manifest describes backup "${name}", not "copy". Nothing was changed`,
                    ),
                  );
                  return true;
                },
              );
              assert.doesNotMatch(cap.text(), /checksum OK/);
            }
            // The same through the CLI, by path.
            await assert.rejects(
              restoreCli([`${dir}/copy.dump`, "--yes"], captureOutput().output, {
                DATABASE_URL: db.url,
                REDIS_URL: redis.url,
              }),
              /cannot be trusted/,
            );
            // The listing marks it unusable.
            const list = captureOutput();
            await restoreCli(["--dir", dir], list.output, {
              DATABASE_URL: db.url,
              REDIS_URL: redis.url,
            });
            assert.match(list.text(), /copy\s.*unusable: its manifest describes backup/);
            assert.deepEqual(await databases(), dbsBefore);
            assert.deepEqual(await snapshotRows(db.sql), current);
          } finally {
            await Deno.remove(`${dir}/copy.manifest.json`);
            await Deno.remove(`${dir}/copy.dump`);
          }
        },
      );

      await t.step("without --yes and without a terminal, restore refuses", async () => {
        const current = await snapshotRows(db.sql);
        const cap = captureOutput();
        const code = await restoreCli([name, "--dir", dir], cap.output, {
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
        }).catch((error) => error);
        assert.ok(code instanceof OpsError);
        assert.match(code.message, /refusing to replace database "freelance_platform"/);
        // It said exactly what it would destroy.
        assert.match(cap.text(), /This will REPLACE database "freelance_platform"/);
        assert.match(cap.text(), /task_processed_events\s+11\s+10/);
        assert.match(
          cap.text(),
          /kubectl scale deployment userservice taskservice orchestrator --replicas=0/,
        );
        assert.deepEqual(await snapshotRows(db.sql), current);
      });

      await t.step("on a terminal, a wrong answer aborts", async () => {
        const cap = captureOutput({ isTTY: true, interactive: true, answers: ["yes"] });
        await assert.rejects(
          runRestore({
            databaseUrl: db.url,
            target: new LocalTarget(dir),
            name,
            output: cap.output,
            yes: false,
          }),
          /aborted by the operator/,
        );
        assert.match(cap.text(), /Type "freelance_platform" to replace/);
      });

      await t.step("restore brings back every row and keeps the old database", async () => {
        const vandalised = await snapshotRows(db.sql);
        const cap = captureOutput({
          isTTY: true,
          interactive: true,
          answers: ["freelance_platform"],
        });
        const result = await runRestore({
          databaseUrl: db.url,
          target: new LocalTarget(dir),
          name,
          output: cap.output,
          yes: false,
        });
        await settle();
        assert.deepEqual(await snapshotRows(db.sql), before);
        assert.ok(result.keptAs?.startsWith("freelance_platform_pre_restore_"));
        const old = client(withDatabase(db.url, result.keptAs!));
        try {
          assert.deepEqual(await snapshotRows(old), vandalised);
        } finally {
          await old.end();
        }
        // Sequences came back too: new rows do not collide.
        await db.sql`INSERT INTO task_outbox (id, subject, payload)
          VALUES (gen_random_uuid(), 'task.created', '{}')`;
        await db.sql`DELETE FROM task_outbox WHERE payload = '{}'::jsonb`;
        assert.match(cap.text(), /Start the services again/);
      });

      await t.step("--drop-old drops the replaced database", async () => {
        await vandalise();
        const dbsBefore = await databases();
        const cap = captureOutput();
        const users = startFakeService("unhealthy", 1);
        try {
          const code = await restoreCli([name, "--dir", dir, "--yes", "--drop-old"], cap.output, {
            DATABASE_URL: db.url,
            REDIS_URL: redis.url,
            USERS_URL: users.url,
          });
          assert.equal(code, 0, cap.text());
        } finally {
          await users.close();
        }
        await settle();
        assert.deepEqual(await snapshotRows(db.sql), before);
        assert.deepEqual(await databases(), dbsBefore);
        assert.match(cap.text(), /will be DROPPED/);
        assert.match(cap.text(), /users http:\/\/127\.0\.0\.1:\d+\/health: unhealthy \(HTTP 503\)/);
        assert.match(cap.text(), /users http:\/\/127\.0\.0\.1:\d+\/health: healthy\n/);
        assert.match(cap.text(), /all services healthy/);

        // A service that never comes up: restored, but exit 1 and said so.
        const late = captureOutput();
        const code = await restoreCli(
          [name, "--dir", dir, "--yes", "--drop-old", "--health-timeout", "1s"],
          late.output,
          { DATABASE_URL: db.url, REDIS_URL: redis.url, TASKS_URL: deadUrl() },
        );
        assert.equal(code, 1);
        assert.match(late.text(), /tasks http:.*unreachable \(tcp connect error/);
        assert.match(
          late.text(),
          /the database was restored, but not every service became healthy/,
        );
      });

      await t.step("restore clears the profile cache it made stale, and no other key", async () => {
        await vandalise();
        const cache = await connectRedisOnce(redis.url);
        try {
          // Profiles the services cached from the replaced database, and a key not ours.
          await cache.set("fp:users:user:1", JSON.stringify({ displayName: "changed" }), "EX", 60);
          await cache.set("fp:users:user:2", JSON.stringify({ displayName: "changed" }), "EX", 60);
          await cache.set("someone-else:key", "kept");
          const cap = captureOutput();
          const code = await restoreCli([name, "--dir", dir, "--yes", "--drop-old"], cap.output, {
            DATABASE_URL: db.url,
            REDIS_URL: redis.url,
          });
          assert.equal(code, 0, cap.text());
          assert.deepEqual(await cache.keys("fp:*"), []);
          assert.equal(await cache.get("someone-else:key"), "kept");
          assert.match(cap.text(), /profile cache cleared: 2 fp:\* key\(s\) deleted in redis:\/\//);
        } finally {
          cache.disconnect();
        }
        await settle();
        assert.deepEqual(await snapshotRows(db.sql), before);

        // Redis unreachable: the database is restored all the same, and the warning says what to
        // run once Redis answers.
        await vandalise();
        const cap = captureOutput();
        const code = await restoreCli([name, "--dir", dir, "--yes", "--drop-old"], cap.output, {
          DATABASE_URL: db.url,
          REDIS_URL: deadUrl("redis"),
        });
        assert.equal(code, 0, cap.text());
        assert.match(cap.text(), /profile cache \(fp:\* in redis:.*\) was not cleared/);
        assert.match(cap.text(), /deno task emergency flush-cache --yes/);
        await settle();
        assert.deepEqual(await snapshotRows(db.sql), before);
      });

      await t.step("a failing pg_restore leaves the database as it was", async () => {
        await vandalise();
        const current = await snapshotRows(db.sql);
        const dbsBefore = await databases();
        const failing = await Deno.makeTempDir({ prefix: "fp-failbin-" });
        await writeFailingPgTools(failing);
        const cap = captureOutput();
        await assert.rejects(
          restoreCli([name, "--dir", dir, "--yes"], cap.output, {
            DATABASE_URL: db.url,
            REDIS_URL: redis.url,
            PG_BIN_DIR: failing,
          }),
          /pg_restore exited with 1: pg_restore: error: could not execute query: ERROR: {2}boom; "freelance_platform" was not changed/,
        );
        await Deno.remove(failing, { recursive: true });
        assert.deepEqual(await snapshotRows(db.sql), current);
        assert.deepEqual(await databases(), dbsBefore);
        await restoreCli([name, "--dir", dir, "--yes", "--drop-old"], captureOutput().output, {
          DATABASE_URL: db.url,
          REDIS_URL: redis.url,
        });
      });

      await t.step("a backup of another database is refused", async () => {
        const other = await db.pg.createDatabase("other_db");
        const cap = captureOutput();
        await assert.rejects(
          runRestore({
            databaseUrl: other,
            target: new LocalTarget(dir),
            name,
            output: cap.output,
            yes: true,
          }),
          /is of database "freelance_platform", not "other_db".*Nothing was changed/,
        );
      });

      await t.step(
        "a target database that does not exist is refused (unless --create)",
        async () => {
          const missing = withDatabase(db.url, "no_such_db");
          const cap = captureOutput();
          await assert.rejects(
            runRestore({
              databaseUrl: missing,
              target: new LocalTarget(dir),
              name,
              output: cap.output,
              yes: true,
              allowOtherDatabase: true,
            }),
            /database "no_such_db" does not exist.*Nothing was changed/,
          );
          assert.ok(!(await databases()).includes("no_such_db"));
          await runRestore({
            databaseUrl: missing,
            target: new LocalTarget(dir),
            name,
            output: cap.output,
            yes: true,
            allowOtherDatabase: true,
            create: true,
          });
          const restored = client(missing);
          try {
            assert.deepEqual(await snapshotRows(restored), before);
          } finally {
            await restored.end();
          }
        },
      );

      await t.step("without arguments, restore lists the backups", async () => {
        const cap = captureOutput();
        assert.equal(
          await restoreCli(["--dir", dir], cap.output, {
            DATABASE_URL: db.url,
            REDIS_URL: redis.url,
          }),
          0,
        );
        assert.match(cap.text(), new RegExp(`${name}\\s.*freelance_platform\\s+15\\s.*ok`));
      });
    } finally {
      await redis.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "retention keeps exactly the newest N, only after a verified backup",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fp-retention-" });
    try {
      await Deno.writeTextFile(`${dir}/notes.dump`, "not ours"); // no manifest: never touched
      // The same database name on another server (staging beside production in one bucket and
      // prefix), older than all of ours: never ours to prune.
      const foreign = "freelance_platform_20000101_000000_000";
      await Deno.writeTextFile(`${dir}/${foreign}.dump`, "PGDMP staging");
      await Deno.writeTextFile(
        `${dir}/${foreign}.manifest.json`,
        stringifyManifest({
          formatVersion: 1,
          name: foreign,
          dumpFile: `${foreign}.dump`,
          format: "custom",
          database: "freelance_platform",
          server: new URL(db.url).host,
          systemIdentifier: "1234567890",
          postgresVersion: "15.0",
          postgresMajor: 15,
          pgDumpVersion: "15.0",
          pgDumpMajor: 15,
          sha256: "0".repeat(64),
          sizeBytes: 13,
          startedAt: "2000-01-01T00:00:00.000Z",
          finishedAt: "2000-01-01T00:00:01.000Z",
          durationMs: 1000,
          rowCounts: {},
        }),
      );
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        const cap = captureOutput();
        const code = await backupCli(["--dir", dir, "--keep", "3", "--json"], cap.output, {
          DATABASE_URL: db.url,
        });
        assert.equal(code, 0, cap.text());
        const result = JSON.parse(cap.stdout.join(""));
        names.push(result.manifest.name);
        await new Promise((r) => setTimeout(r, 5));
      }
      const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      const expected = names.slice(-3).flatMap((n) => [`${n}.dump`, `${n}.manifest.json`]);
      assert.deepEqual(
        files,
        [...expected, "notes.dump", `${foreign}.dump`, `${foreign}.manifest.json`].sort(),
      );
      const last = captureOutput();
      await backupCli(["--dir", dir, "--keep", "3"], last.output, { DATABASE_URL: db.url });
      assert.match(
        last.text(),
        new RegExp(
          `left alone: ${foreign} \\(backup of another server .*system identifier 1234567890\\)`,
        ),
      );
      assert.ok(Deno.statSync(`${dir}/${foreign}.manifest.json`).isFile);

      // A failed backup deletes nothing.
      const files2 = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      const cap = captureOutput();
      const dead = withDatabase(db.url.replace(/:\d+\//, ":1/"), "freelance_platform");
      await assert.rejects(
        backupCli(["--dir", dir, "--keep", "1"], cap.output, { DATABASE_URL: dead }),
        /cannot reach PostgreSQL at 127.0.0.1:1\/freelance_platform/,
      );
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), files2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "backup refuses clearly: missing or old pg_dump, unwritable target",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const bin = await Deno.makeTempDir({ prefix: "fp-bin-" });
    try {
      const cap = captureOutput();
      await assert.rejects(
        backupCli(["--dir", `${bin}/out`], cap.output, { DATABASE_URL: db.url, PG_BIN_DIR: bin }),
        /pg_dump not found or not runnable in PG_BIN_DIR=/,
      );
      await Deno.writeTextFile(
        `${bin}/pg_dump`,
        "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n",
      );
      await Deno.chmod(`${bin}/pg_dump`, 0o755);
      await assert.rejects(
        backupCli(["--dir", `${bin}/out`], cap.output, { DATABASE_URL: db.url, PG_BIN_DIR: bin }),
        (error: OpsError) => {
          assert.match(error.message, /pg_dump 9\.6 .* is older than the server \(PostgreSQL 15\)/);
          assert.match(error.hint ?? "", /postgresql-client-15/);
          return true;
        },
      );
      // pg_dump failing half-way: no dump, no partial file, nothing deleted.
      const failing = await Deno.makeTempDir({ prefix: "fp-failbin-" });
      await writeFailingPgTools(failing);
      const out = `${bin}/out`;
      await Deno.mkdir(out);
      await Deno.writeTextFile(`${out}/keep.dump`, "x");
      await assert.rejects(
        backupCli(["--dir", out, "--keep", "1"], cap.output, {
          DATABASE_URL: db.url,
          PG_BIN_DIR: failing,
        }),
        /backup failed: pg_dump exited with 1: pg_dump: error: Dumping the contents of table "tasks" failed: boom; no backup was written and no old backup was deleted/,
      );
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["keep.dump"]);
      await Deno.remove(failing, { recursive: true });
      await Deno.writeTextFile(`${bin}/file`, "");
      await assert.rejects(
        backupCli(["--dir", `${bin}/file/sub`], cap.output, { DATABASE_URL: db.url }),
        /backup directory .*file\/sub is not writable/,
      );
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failure after the dump was written leaves no orphan dump; a failed COMMIT is tolerated",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fp-orphan-" });
    const bin = await Deno.makeTempDir({ prefix: "fp-killbin-" });
    try {
      // The manifest cannot be written: the dump must not stay behind without one.
      const local = new LocalTarget(dir);
      const failing: BackupTarget = Object.assign(Object.create(local), {
        writeManifest: () => Promise.reject(new Error("disk full")),
      });
      await assert.rejects(
        runBackup({
          databaseUrl: db.url,
          target: failing,
          keep: 7,
          output: captureOutput().output,
        }),
        /backup failed: disk full; the incomplete dump freelance_platform_\d{8}_\d{6}_\d{3}\.dump was removed and no old backup was deleted/,
      );
      assert.deepEqual([...Deno.readDirSync(dir)], []);

      // The snapshot session is terminated once pg_dump is done (as terminate-idle used to do
      // during long dumps): COMMIT fails, but the dump is complete, verified and kept.
      const real = await findPgTool("pg_dump");
      const psql = real.path.replace(/pg_dump$/, "psql");
      await Deno.writeTextFile(
        `${bin}/pg_dump`,
        `#!/bin/sh
if [ "$1" = "--version" ]; then exec "${real.path}" --version; fi
out=$(mktemp)
"${real.path}" "$@" > "$out" || { rc=$?; rm -f "$out"; exit $rc; }
PGAPPNAME=test-killer "${psql}" -X -q -t -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fp-ops-backup' AND state LIKE 'idle in transaction%'" >/dev/null || exit 3
cat "$out"
rm -f "$out"
`,
      );
      await Deno.chmod(`${bin}/pg_dump`, 0o755);
      const cap = captureOutput();
      const { manifest } = await runBackup({
        databaseUrl: db.url,
        target: local,
        keep: 7,
        pgBinDir: bin,
        output: cap.output,
      });
      assert.match(cap.text(), /warning: ending the snapshot transaction failed/);
      assert.match(cap.text(), /verified: the stored dump reads back/);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
        `${manifest.name}.dump`,
        `${manifest.name}.manifest.json`,
      ]);
      const verify = captureOutput();
      assert.equal(
        (await runVerify({
          databaseUrl: db.url,
          target: local,
          name: manifest.name,
          output: verify.output,
        })).ok,
        true,
        verify.text(),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  },
});

Deno.test({
  name: "the backup program exits 1 with a message and no password on a dead server",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./backup.ts", import.meta.url).pathname],
      env: {
        DATABASE_URL: "postgres://app:s3cret-pw@127.0.0.1:1/freelance_platform",
        BACKUP_DIR: await Deno.makeTempDir(),
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 1, stderr);
    assert.match(stderr, /error: cannot reach PostgreSQL at 127.0.0.1:1\/freelance_platform/);
    assert.match(stderr, /hint: /);
    assert.ok(!stderr.includes("s3cret-pw"), stderr);
  },
});

Deno.test({
  name: "cleanup",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await db.close();
  },
});
