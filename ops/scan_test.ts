/**
 * `deno task scan`: each check against real inputs (this repository's lock files, a directory with
 * bad modes, this host's apt) and the npm check against a local stand-in for the registry's bulk
 * advisory endpoint (this machine's npm mirror refuses that POST with 405, which is tested too).
 */
import assert from "node:assert/strict";
import { scanCli } from "./scan.ts";
import { modeProblems, scanFileModes } from "./scan/file_modes.ts";
import { denoLockPackages, packageLockPackages } from "./scan/lockfiles.ts";
import { matchAdvisories, readPins, scanNpm } from "./scan/npm_advisories.ts";
import { parseSimulatedUpgrade, scanOsPackages, securityUpgrades } from "./scan/os_packages.ts";
import { scanExitCode, scanVerdict } from "./scan/result.ts";
import { trivyFindings } from "./scan/trivy.ts";
import { inRange } from "./scan/version_range.ts";
import { captureOutput } from "./shared/output.ts";

const repoRoot = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("advisory ranges: comparators, unions, and unreadable ranges count as affected", () => {
  assert.equal(inRange("1.2.5", "<1.2.6"), true);
  assert.equal(inRange("1.2.6", "<1.2.6"), false);
  assert.equal(inRange("2.0.1", ">=2.0.0 <2.0.3"), true);
  assert.equal(inRange("2.0.1", ">= 2.0.0 < 2.0.3"), true);
  assert.equal(inRange("1.9.0", "<1.2.6 || >=2.0.0 <2.0.3"), false);
  assert.equal(inRange("1.0.0", "<1.2.6 || >=2.0.0 <2.0.3"), true);
  assert.equal(inRange("3.0.0-rc.1", "<3.0.0"), true);
  assert.equal(inRange("6.2.18", "<=6.2.18"), true);
  assert.equal(inRange("6.2.18", "*"), true);
  assert.equal(inRange("6.2.18", "^6.0.0"), true, "not understood: affected");
});

Deno.test("lock files: deno.lock and package-lock.json pins", async () => {
  assert.deepEqual(
    denoLockPackages('{"npm":{"@a/b@1.0.0":{},"c@2.0.0_@a+b@1.0.0":{}}}'),
    [["@a/b", "1.0.0"], ["c", "2.0.0"]],
  );
  assert.deepEqual(
    packageLockPackages(
      '{"packages":{"":{"version":"1"},"node_modules/x":{"version":"1.1.0"},' +
        '"node_modules/x/node_modules/@s/y":{"version":"0.1.0"},"w":{"link":true}}}',
    ),
    [["x", "1.1.0"], ["@s/y", "0.1.0"]],
  );
  const { pins, read } = await readPins(repoRoot, ["deno.lock", "tools/package-lock.json"]);
  assert.deepEqual(read, ["deno.lock", "tools/package-lock.json"]);
  assert.ok(pins.get("jose")?.has("6.2.18"), "jose from deno.lock");
  assert.ok(pins.get("@bufbuild/buf"), "buf from tools/package-lock.json");
  assert.ok(pins.size > 100);
});

Deno.test("apt: security upgrades from a simulated upgrade", () => {
  const text = [
    "Reading package lists...",
    "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])",
    "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.9/stable [all])",
    "Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])",
  ].join("\n");
  const all = parseSimulatedUpgrade(text);
  assert.equal(all.length, 2);
  assert.deepEqual(securityUpgrades(all), [{
    name: "libssl3",
    installed: "3.0.11-1~deb12u1",
    candidate: "3.0.11-1~deb12u2",
    origin: "Debian-Security:12/stable-security",
  }]);
});

Deno.test("apt on this host: a result or a clear reason, never a throw", async () => {
  const result = await scanOsPackages({ aptUpdate: false });
  assert.ok(["scanned", "error", "skipped"].includes(result.outcome));
  if (result.outcome !== "scanned") assert.ok(result.reason);
  const empty = await Deno.makeTempDir();
  try {
    const none = await scanOsPackages({ aptUpdate: false, listsDir: empty });
    assert.equal(none.outcome, "error");
    assert.match(none.reason!, /no apt package lists .* --apt-update/);
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("files: world-writable, SUID and SGID files are found; links are not followed", async () => {
  assert.deepEqual(modeProblems(0o100644), []);
  assert.deepEqual(modeProblems(0o106777), ["world-writable", "SUID", "SGID"]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/ok.ts`, "");
    await Deno.writeTextFile(`${dir}/sub/open.ts`, "");
    await Deno.chmod(`${dir}/sub/open.ts`, 0o666);
    await Deno.writeTextFile(`${dir}/tool`, "");
    await Deno.chmod(`${dir}/tool`, 0o4755);
    await Deno.symlink("/usr/bin/passwd", `${dir}/link`); // SUID on Debian, but a link
    const result = await scanFileModes(dir);
    assert.equal(result.outcome, "scanned");
    assert.deepEqual(
      result.findings.map((f) => [f.subject.slice(dir.length), f.problem, f.detail]).sort(),
      [["/sub/open.ts", "world-writable", "mode 0666, uid 0"], [
        "/tool",
        "SUID",
        "mode 4755, uid 0",
      ]]
        .map(([s, p, d]) => [s, p, d.replace("uid 0", `uid ${Deno.uid()}`)]),
    );
    assert.equal((await scanFileModes(`${dir}/none`)).outcome, "error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trivy: HIGH and CRITICAL from its JSON", () => {
  const findings = trivyFindings({
    Results: [{
      Target: "debian 12",
      Vulnerabilities: [
        {
          VulnerabilityID: "CVE-1",
          PkgName: "libssl3",
          InstalledVersion: "1",
          FixedVersion: "2",
          Severity: "CRITICAL",
        },
        { VulnerabilityID: "CVE-2", PkgName: "zlib1g", InstalledVersion: "1", Severity: "LOW" },
      ],
    }],
  });
  assert.deepEqual(findings.map((f) => [f.subject, f.severity, f.problem]), [
    ["libssl3 1", "critical", "CVE-1"],
  ]);
});

/** A local stand-in for the registry's bulk advisory endpoint, recording what it was sent. */
function standInRegistry(answer: (body: Record<string, string[]>) => Response) {
  const received: Record<string, string[]>[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    if (req.method !== "POST" || !req.url.endsWith("/-/npm/v1/security/advisories/bulk")) {
      return new Response("not found", { status: 404 });
    }
    const body = await req.json();
    received.push(body);
    return answer(body);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, received, server };
}

Deno.test("npm: advisories covering a pinned version become findings", async () => {
  const registry = standInRegistry((body) =>
    Response.json({
      jose: [
        {
          id: 1,
          url: "https://github.com/advisories/GHSA-test-0001",
          title: "Token confusion",
          severity: "high",
          vulnerable_versions: `<=${body.jose[0]}`,
        },
        {
          id: 2,
          url: "https://github.com/advisories/GHSA-test-0002",
          title: "Old bug",
          severity: "critical",
          vulnerable_versions: "<1.0.0",
        },
      ],
    })
  );
  try {
    const result = await scanNpm({
      root: repoRoot,
      lockFiles: ["deno.lock", "tools/package-lock.json"],
      registry: registry.url,
    });
    assert.equal(result.outcome, "scanned");
    assert.deepEqual(registry.received[0].jose, ["6.2.18"]);
    assert.ok(registry.received[0]["@bufbuild/buf"]);
    assert.deepEqual(result.findings.map((f) => [f.subject, f.severity, f.problem]), [
      ["jose@6.2.18", "high", "Token confusion"],
    ]);
    assert.match(result.findings[0].detail!, /GHSA-test-0001 .*pinned in deno\.lock/);
  } finally {
    await registry.server.shutdown();
  }
  const pins = new Map([["a", new Map([["1.0.0", new Set(["x"])]])]]);
  assert.deepEqual(
    matchAdvisories(pins, {
      a: [{ id: 1, url: "u", title: "t", severity: "low", vulnerable_versions: ">1.0.0" }],
    }),
    [],
  );
});

Deno.test("deno task scan: exit codes 0 clean, 1 findings, 2 could not scan; a readable report", async () => {
  const dir = await Deno.makeTempDir();
  const clean = standInRegistry(() => Response.json({}));
  const refusing = standInRegistry(() => new Response("Method Not Allowed", { status: 405 }));
  try {
    await Deno.writeTextFile(`${dir}/deno.lock`, '{"version":"5","npm":{"jose@6.2.18":{}}}');
    const skip = ["--skip", "os,trivy", "--root", dir];

    const ok = captureOutput();
    assert.equal(await scanCli(skip, ok.output, { NPM_CONFIG_REGISTRY: clean.url }), 0);
    assert.match(
      ok.text(),
      /1 npm package versions from deno\.lock \(tools\/package-lock\.json absent\)/,
    );
    assert.match(ok.text(), /\[ OK \] nothing found/);
    assert.match(ok.text(), /\[SKIP\] --skip/);
    assert.match(ok.text(), /Verdict: CLEAN \(exit 0\)/);

    const incomplete = captureOutput();
    assert.equal(await scanCli(skip, incomplete.output, { NPM_CONFIG_REGISTRY: refusing.url }), 2);
    assert.match(incomplete.text(), /\[FAIL\] could not scan: the registry answered 405/);
    assert.match(incomplete.text(), /Verdict: INCOMPLETE; could not scan: npm \(exit 2\)/);

    await Deno.writeTextFile(`${dir}/run.sh`, "");
    await Deno.chmod(`${dir}/run.sh`, 0o777);
    const found = captureOutput();
    assert.equal(
      await scanCli([...skip, "--json"], found.output, { NPM_CONFIG_REGISTRY: refusing.url }),
      1,
      "findings win over a check that could not run",
    );
    const report = JSON.parse(found.stdout.join(""));
    assert.equal(report.verdict, "FINDINGS");
    assert.equal(
      report.results.find((r: { check: string }) => r.check === "files").findings[0]
        .problem,
      "world-writable",
    );

    const help = captureOutput();
    assert.equal(await scanCli(["--help"], help.output, {}), 0);
    assert.match(help.text(), /Usage: deno task scan/);
    await assert.rejects(scanCli(["--skip", "virus"], captureOutput().output, {}), /unknown check/);
  } finally {
    await clean.server.shutdown();
    await refusing.server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(scanExitCode(scanVerdict([])), 0);
});
