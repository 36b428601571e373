/**
 * The ops programs' pure parts, without servers: formatting, tables, flags, configuration,
 * manifests, retention planning, count comparison, libpq environment, secret scrubbing.
 */
import assert from "node:assert/strict";
import {
  type BackupManifest,
  backupName,
  manifestMismatch,
  nameOf,
  parseManifest,
  stringifyManifest,
} from "./backup/manifest.ts";
import { planRetention } from "./backup/retention.ts";
import type { StoredBackup } from "./backup/targets/target.ts";
import { isCustomFormat } from "./backup/digest.ts";
import { isSparedOpsSession } from "./emergency/terminate_idle.ts";
import { compareCounts } from "./restore/compare.ts";
import { intFlag, parseDurationFlag, parseFlags, reportError, scrub } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { confirm } from "./shared/confirm.ts";
import { OpsError, UsageError } from "./shared/errors.ts";
import {
  compactStamp,
  formatBytes,
  formatCount,
  formatDuration,
  oneLine,
} from "./shared/format.ts";
import { captureOutput } from "./shared/output.ts";
import { libpqEnv, parseToolVersion, requireToolVersion } from "./shared/pg_tools.ts";
import { renderTable } from "./shared/table.ts";
import { verdictOf } from "./doctor/finding.ts";
import { ConfigError } from "@platform/lib/config";

function manifest(
  name: string,
  startedAt: string,
  database = "freelance_platform",
  origin: { server?: string; systemIdentifier?: string } = { systemIdentifier: "7001" },
): BackupManifest {
  return {
    formatVersion: 1,
    name,
    dumpFile: `${name}.dump`,
    format: "custom",
    database,
    server: origin.server ?? "127.0.0.1:5432",
    ...(origin.systemIdentifier ? { systemIdentifier: origin.systemIdentifier } : {}),
    postgresVersion: "16.4",
    postgresMajor: 16,
    pgDumpVersion: "16.4",
    pgDumpMajor: 16,
    sha256: "a".repeat(64),
    sizeBytes: 10,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    rowCounts: { tasks: 3, users: 2 },
  };
}

Deno.test("formatting", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(5 * 1024 ** 3), "5.0 GiB");
  assert.equal(formatDuration(250), "250ms");
  assert.equal(formatDuration(12_340), "12.3s");
  assert.equal(formatDuration(83_500), "1m24s");
  assert.equal(formatDuration(3_600_000), "1h");
  assert.equal(formatDuration(3_723_000), "1h2m3s");
  assert.equal(formatCount(100000), "100,000");
  assert.equal(compactStamp(new Date("2024-10-19T15:30:05Z")), "20241019_153005");
  assert.equal(oneLine("SELECT *\n   FROM users", 12), "SELECT * FR…");
});

Deno.test("tables align columns", () => {
  assert.equal(
    renderTable([{ header: "table" }, { header: "rows", align: "right" }], [["tasks", "100"], [
      "users",
      "7",
    ]]),
    "table  rows\n-----  ----\ntasks   100\nusers     7",
  );
});

Deno.test("flags: unknown flags and bad values are usage errors", () => {
  const parsed = parseFlags(["--yes", "x.dump", "--keep", "3"], {
    boolean: ["yes"],
    string: ["keep"],
  });
  assert.equal(parsed.flags.yes, true);
  assert.deepEqual(parsed.positionals, ["x.dump"]);
  assert.equal(intFlag(parsed.flags, "keep", 7), 3);
  assert.throws(() => parseFlags(["--force"], { boolean: ["yes"] }), UsageError);
  assert.throws(() => intFlag({ keep: "0" }, "keep", 7), /--keep must be an integer >= 1/);
  assert.equal(parseDurationFlag("90s", "x"), 90_000);
  assert.equal(parseDurationFlag("1h", "x"), 3_600_000);
  assert.throws(() => parseDurationFlag("1 hour", "older-than"), /--older-than must be a duration/);
});

Deno.test("configuration: defaults, S3, and bad values naming the variable", () => {
  const defaults = loadOpsConfig({});
  assert.equal(defaults.databaseUrl, "postgres://postgres@127.0.0.1:5432/freelance_platform");
  assert.equal(defaults.backupDir, "./backups");
  assert.equal(defaults.backupKeep, 7);
  assert.equal(defaults.reindexHour, 3);
  assert.equal(defaults.s3, undefined);
  assert.equal(defaults.services.users, "http://127.0.0.1:50051");
  assert.deepEqual(defaults.servicesGiven, []);
  assert.deepEqual(loadOpsConfig({ TASKS_URL: "http://taskservice:50052/" }).servicesGiven, [
    "tasks",
  ]);
  const s3 = loadOpsConfig({
    S3_BUCKET: "fp-backups",
    S3_ENDPOINT: "http://minio:9000",
    AWS_REGION: "eu-west-1",
  }).s3!;
  assert.equal(s3.prefix, "db-backups/");
  assert.equal(s3.region, "eu-west-1");
  assert.equal(s3.forcePathStyle, true);
  assert.equal(loadOpsConfig({ S3_BUCKET: "b-1", S3_PREFIX: "/x" }).s3!.prefix, "x/");
  assert.throws(
    () => loadOpsConfig({ BACKUP_KEEP: "0" }),
    (e: ConfigError) => e.variable === "BACKUP_KEEP",
  );
  assert.throws(() => loadOpsConfig({ MAINTENANCE_REINDEX_HOUR: "24" }), ConfigError);
  assert.throws(() => loadOpsConfig({ S3_BUCKET: "Bad_Bucket" }), ConfigError);
  assert.throws(() => loadOpsConfig({ REDIS_KEY_PREFIX: "*" }), ConfigError);
  assert.throws(
    () => loadOpsConfig({ DATABASE_URL: "mysql://u:secret@h/db" }),
    (e: Error) => !e.message.includes("secret"),
  );
});

Deno.test("manifests: names, round trip, and rejection of bad ones", () => {
  const name = backupName("freelance_platform", new Date("2024-10-19T15:30:00.007Z"));
  assert.equal(name, "freelance_platform_20241019_153000_007");
  assert.equal(nameOf(`/srv/backups/${name}.dump`), name);
  assert.equal(nameOf(`${name}.manifest.json`), name);
  const m = manifest(name, "2024-10-19T15:30:00.007Z");
  assert.deepEqual(parseManifest(stringifyManifest(m)), m);
  assert.throws(() => parseManifest("{"), /not JSON/);
  assert.throws(() => parseManifest(JSON.stringify({ ...m, sha256: "xyz" })), /sha256/);
  assert.throws(
    () => parseManifest(JSON.stringify({ ...m, rowCounts: { tasks: -1 } })),
    /row count of "tasks"/,
  );
  assert.throws(() => parseManifest(JSON.stringify({ ...m, formatVersion: 2 })), /formatVersion 2/);
  assert.ok(isCustomFormat(new TextEncoder().encode("PGDMP\x01\x0e")));
  assert.ok(!isCustomFormat(new TextEncoder().encode("-- SQL")));
});

Deno.test("retention keeps the newest N of this database and ignores the rest", () => {
  const backups: StoredBackup[] = [
    { name: "fp_1", manifest: manifest("fp_1", "2024-10-01T00:00:00Z") },
    { name: "fp_3", manifest: manifest("fp_3", "2024-10-03T00:00:00Z") },
    { name: "fp_2", manifest: manifest("fp_2", "2024-10-02T00:00:00Z") },
    { name: "fp_4", manifest: manifest("fp_4", "2024-10-04T00:00:00Z") },
    { name: "other_1", manifest: manifest("other_1", "2024-09-01T00:00:00Z", "other") },
    { name: "partial", problem: "no manifest (incomplete or not made by this tool)" },
  ];
  const ours = {
    database: "freelance_platform",
    server: "127.0.0.1:5432",
    systemIdentifier: "7001",
  };
  const plan = planRetention(backups, ours, 2);
  assert.deepEqual(plan.keep, ["fp_4", "fp_3"]);
  assert.deepEqual(plan.remove, ["fp_2", "fp_1"]);
  assert.deepEqual(plan.ignored.map((i) => i.name), ["other_1", "partial"]);
  assert.deepEqual(planRetention(backups, ours, 7).remove, []);
  assert.throws(() => planRetention(backups, ours, 0));
});

Deno.test("retention never prunes another server's backups of the same database", () => {
  const at = (day: number) => `2024-10-0${day}T00:00:00Z`;
  const backups: StoredBackup[] = [
    // Production and staging share the bucket and prefix, and even the host name.
    ...[1, 2, 3, 4].map((d) => ({
      name: `prod_${d}`,
      manifest: manifest(`prod_${d}`, at(d), "freelance_platform", {
        server: "postgres:5432",
        systemIdentifier: "7001",
      }),
    })),
    ...[5, 6, 7].map((d) => ({
      name: `staging_${d}`,
      manifest: manifest(`staging_${d}`, at(d), "freelance_platform", {
        server: "postgres:5432",
        systemIdentifier: "9009",
      }),
    })),
    // Written before the identity was recorded: cannot be attributed, so never deleted.
    {
      name: "legacy_0",
      manifest: manifest("legacy_0", "2024-09-01T00:00:00Z", "freelance_platform", {
        server: "postgres:5432",
      }),
    },
  ];
  const production = {
    database: "freelance_platform",
    server: "postgres:5432",
    systemIdentifier: "7001",
  };
  const plan = planRetention(backups, production, 2);
  assert.deepEqual(plan.keep, ["prod_4", "prod_3"]);
  assert.deepEqual(plan.remove, ["prod_2", "prod_1"]);
  assert.deepEqual(plan.ignored.map((i) => i.name).sort(), [
    "legacy_0",
    "staging_5",
    "staging_6",
    "staging_7",
  ]);
  assert.match(
    plan.ignored.find((i) => i.name === "staging_7")!.reason,
    /another server \(postgres:5432, system identifier 9009\)/,
  );
  assert.match(plan.ignored.find((i) => i.name === "legacy_0")!.reason, /no server identity/);

  // The same cluster under another host name (a failover, a renamed service) is still ours.
  const renamed = { ...production, server: "db.internal:5432" };
  assert.deepEqual(planRetention(backups, renamed, 2).remove, ["prod_2", "prod_1"]);

  // A server whose identity cannot be read: host:port decides, and only among manifests
  // without an identity either.
  const noIdentity = { database: "freelance_platform", server: "postgres:5432" };
  const unknown: StoredBackup[] = [
    ...[1, 2, 3].map((d) => ({
      name: `a_${d}`,
      manifest: manifest(`a_${d}`, at(d), "freelance_platform", { server: "postgres:5432" }),
    })),
    {
      name: "b_4",
      manifest: manifest("b_4", at(4), "freelance_platform", { server: "other:5432" }),
    },
    { name: "prod_4", manifest: backups[3].manifest },
  ];
  const blind = planRetention(unknown, noIdentity, 1);
  assert.deepEqual(blind.keep, ["a_3"]);
  assert.deepEqual(blind.remove, ["a_2", "a_1"]);
  assert.deepEqual(blind.ignored.map((i) => i.name).sort(), ["b_4", "prod_4"]);
});

Deno.test("a manifest is trusted only for its own dump", () => {
  const m = manifest("fp_20241019_153000_123", "2024-10-19T15:30:00Z");
  assert.equal(manifestMismatch("fp_20241019_153000_123", m), undefined);
  assert.match(
    manifestMismatch("copy", m)!,
    /its manifest describes backup "fp_20241019_153000_123", not "copy"/,
  );
  assert.match(
    manifestMismatch("fp_20241019_153000_123", { ...m, dumpFile: "other.dump" })!,
    /names dump file "other.dump"/,
  );
  assert.throws(
    () => parseManifest(JSON.stringify({ ...m, systemIdentifier: "x; DROP" })),
    /systemIdentifier/,
  );
});

Deno.test("row counts compare table by table", () => {
  assert.deepEqual(compareCounts({ tasks: 3, users: 2 }, { tasks: 3, users: 1, extra: 0 }), [
    { table: "extra", expected: undefined, actual: 0, ok: false },
    { table: "tasks", expected: 3, actual: 3, ok: true },
    { table: "users", expected: 2, actual: 1, ok: false },
  ]);
});

Deno.test("client programs: versions and a password-free command line", () => {
  assert.deepEqual(parseToolVersion("pg_dump (PostgreSQL) 16.4 (Debian 16.4-1)"), {
    version: "16.4",
    major: 16,
  });
  assert.deepEqual(parseToolVersion("pg_dump (PostgreSQL) 9.6.24"), { version: "9.6", major: 9 });
  assert.equal(parseToolVersion("nope"), undefined);
  assert.throws(
    () =>
      requireToolVersion(
        { name: "pg_dump", path: "/usr/bin/pg_dump", version: "15.2", major: 15 },
        16,
        "the server",
      ),
    /pg_dump 15\.2 .* is older than the server \(PostgreSQL 16\)/,
  );
  const env = libpqEnv("postgres://app:p%40ss@db.internal:6543/fp?sslmode=require");
  assert.equal(env.PGHOST, "db.internal");
  assert.equal(env.PGPORT, "6543");
  assert.equal(env.PGUSER, "app");
  assert.equal(env.PGPASSWORD, "p@ss");
  assert.equal(env.PGDATABASE, "fp");
  assert.equal(env.PGSSLMODE, "require");
});

Deno.test("errors never show passwords", () => {
  assert.equal(
    scrub("cannot reach postgres://app:pw@db:5432/x now"),
    "cannot reach postgres://app:***@db:5432/x now",
  );
  const cap = captureOutput();
  const code = reportError(
    cap.output,
    new OpsError("failed at redis://:hunter2@cache:6379", { hint: "see nats://u:p@n:4222" }),
  );
  assert.equal(code, 1);
  assert.ok(!cap.text().includes("hunter2") && !cap.text().includes("u:p@"), cap.text());
  assert.equal(reportError(cap.output, new ConfigError("PORT", "bad")), 64);
});

Deno.test("confirmation: --yes, a typed answer, or refusal", () => {
  const yes = captureOutput();
  confirm(yes.output, { yes: true, action: "purge stream TASKS" });
  assert.match(yes.text(), /Confirmed by --yes: purge stream TASKS/);
  assert.throws(
    () => confirm(captureOutput().output, { yes: false, action: "x" }),
    /not on a terminal and --yes not given/,
  );
  const typed = captureOutput({ interactive: true, answers: ["freelance_platform"] });
  confirm(typed.output, { yes: false, action: "replace", typeToConfirm: "freelance_platform" });
  const wrong = captureOutput({ interactive: true, answers: ["y"] });
  assert.throws(
    () => confirm(wrong.output, { yes: false, action: "replace", typeToConfirm: "fp" }),
    /aborted/,
  );
});

Deno.test("progress lines appear only on a terminal", () => {
  const pipe = captureOutput({ isTTY: false });
  pipe.output.progress("dumped 1 MiB");
  assert.equal(pipe.text(), "");
  const tty = captureOutput({ isTTY: true });
  tty.output.progress("dumped 1 MiB");
  tty.output.line("done");
  assert.ok(tty.text().endsWith("dumped 1 MiB\r\x1b[2Kdone\n"), JSON.stringify(tty.text()));
});

Deno.test("doctor verdicts", () => {
  const f = (status: "ok" | "info" | "warn" | "fail") => ({
    group: "g",
    check: "c",
    status,
    summary: "",
  });
  assert.equal(verdictOf([f("ok"), f("info")]), "HEALTHY");
  assert.equal(verdictOf([f("ok"), f("warn")]), "DEGRADED");
  assert.equal(verdictOf([f("warn"), f("fail")]), "UNHEALTHY");
});

Deno.test("ops sessions are spared only while young, never with includeOps", () => {
  const backup = (hours: number) => ({
    application: "fp-ops-backup",
    transactionSeconds: hours * 3600,
  });
  assert.equal(isSparedOpsSession(backup(1)), true);
  assert.equal(isSparedOpsSession(backup(5.9)), true);
  assert.equal(isSparedOpsSession(backup(6)), false);
  assert.equal(isSparedOpsSession(backup(30)), false);
  assert.equal(isSparedOpsSession(backup(1), { spareOpsForMs: 1_800_000 }), false);
  assert.equal(isSparedOpsSession(backup(0.1), { includeOps: true }), false);
  assert.equal(isSparedOpsSession({ application: "psql", transactionSeconds: 1 }), false);
});
