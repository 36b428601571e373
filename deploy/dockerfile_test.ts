/**
 * deploy/Dockerfile and .dockerignore: the pinned Deno image, dependencies cached from the lock
 * file, a non-root user, a HEALTHCHECK on /health that really passes only on 200 (run here
 * against a throwaway server), and one image for every service and ops task.
 */
import assert from "node:assert/strict";
import { execForm, type Instruction, parseDockerfile } from "./testing/dockerfile.ts";
import { freePort, runHealthcheck, serveHealth } from "./testing/health_server.ts";
import { readRequired, repoFile } from "./testing/paths.ts";
import { at, parseYamlMap } from "./testing/yaml_docs.ts";
import { taskPermissions } from "../scripts/dev/task_flags.ts";

const dockerfile = parseDockerfile(
  await readRequired(repoFile("deploy/Dockerfile"), "the image definition under test"),
);
const denoJson = JSON.parse(await readRequired(repoFile("deno.json"), "workspace config"));
const toolsJson = JSON.parse(await readRequired(repoFile("tools/package.json"), "pinned Deno"));

function all(keyword: string): Instruction[] {
  return dockerfile.filter((i) => i.keyword === keyword);
}

function indexOf(predicate: (i: Instruction) => boolean): number {
  const index = dockerfile.findIndex(predicate);
  assert.ok(index >= 0, "instruction not found");
  return index;
}

function healthcheckCommand(): string[] {
  const [healthcheck] = all("HEALTHCHECK");
  assert.ok(healthcheck, "the Dockerfile has a HEALTHCHECK");
  return execForm(healthcheck.args);
}

Deno.test("the image is the official Deno image at the repository's pinned version", () => {
  const from = all("FROM");
  assert.equal(from.length, 1, "one stage");
  assert.equal(from[0].args, `denoland/deno:${toolsJson.devDependencies.deno}`);
});

Deno.test("dependencies are cached from the lock file in their own layer", () => {
  const install = indexOf((i) => i.keyword === "RUN" && i.args === "deno install --frozen");
  const copySources = indexOf((i) => i.keyword === "COPY" && i.args === ". .");
  assert.ok(install < copySources, "deno install runs before the sources are copied");
  // Every source of the COPY instructions before the install (the last word is the target).
  const copied = dockerfile.slice(0, install).filter((i) => i.keyword === "COPY")
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  assert.ok(copied.includes("deno.json") && copied.includes("deno.lock"), copied.join());
  for (const member of denoJson.workspace as string[]) {
    const config = `${member.replace(/^\.\//, "")}/deno.json`;
    assert.ok(copied.includes(config), `the dependency layer needs ${config}`);
  }
  const entrypoints = dockerfile.slice(copySources).find((i) =>
    i.keyword === "RUN" && i.args.includes("--entrypoint")
  );
  assert.match(entrypoints?.args ?? "", /--frozen/, "the sources' imports are cached, frozen");
});

Deno.test("the image runs as the non-root deno user", () => {
  const users = all("USER");
  assert.ok(users.length > 0);
  assert.equal(users.at(-1)?.args, "deno");
  const lastUser = dockerfile.lastIndexOf(users.at(-1)!);
  assert.ok(lastUser < indexOf((i) => i.keyword === "CMD"));
});

Deno.test("one image serves every service, chosen by the SERVICE build arg", async () => {
  assert.ok(all("ARG").some((i) => i.args === "SERVICE=users"));
  const cmd = execForm(all("CMD")[0].args);
  assert.deepEqual(cmd.slice(0, 2), ["sh", "-c"]);
  // The permissions of `deno task start:users` (the three services' tasks grant the same).
  const flags = (await taskPermissions("start:users")).join(" ");
  assert.equal(cmd[2], `exec deno run ${flags} "services/\${SERVICE}/main.ts"`);
  for (const task of ["start:tasks", "start:orchestrator"]) {
    assert.equal((await taskPermissions(task)).join(" "), flags, task);
  }
  for (const service of ["users", "tasks", "orchestrator"]) {
    await Deno.stat(repoFile(`services/${service}/deno.json`));
  }
  assert.ok(all("ENV").some((i) => /SERVICE_VERSION=\$\{VERSION\}/.test(i.args)));
});

Deno.test("the HEALTHCHECK asks /health with Deno's fetch (no curl in the image)", () => {
  const command = healthcheckCommand();
  assert.deepEqual(command.slice(0, 2), ["deno", "eval"]);
  assert.match(command[2], /\/health`/);
  assert.match(all("HEALTHCHECK")[0].args, /--start-period=\d+s/);
});

Deno.test("the HEALTHCHECK passes on 200 and fails on 503 or when nothing listens", async () => {
  const command = healthcheckCommand();
  const healthy = serveHealth(200);
  const unhealthy = serveHealth(503);
  try {
    assert.equal(await runHealthcheck(command, { PORT: String(healthy.port) }), 0);
    assert.equal(await runHealthcheck(command, { PORT: String(unhealthy.port) }), 1);
    assert.equal(await runHealthcheck(command, { PORT: String(freePort()) }), 1);
  } finally {
    await healthy.close();
    await unhealthy.close();
  }
});

Deno.test("compose.yaml's healthchecks behave the same way", async () => {
  const compose = parseYamlMap(
    await readRequired(repoFile("compose.yaml"), "compose file"),
    "compose.yaml",
  );
  const healthy = serveHealth(200);
  const unhealthy = serveHealth(503);
  try {
    for (
      const [name, port] of [["userservice", 50051], ["taskservice", 50052], [
        "orchestrator",
        50053,
      ]] as const
    ) {
      const test = at(compose, "services", name, "healthcheck", "test") as string[];
      assert.equal(test[0], "CMD");
      const onPort = (p: number) => test.slice(1).map((a) => a.replace(`:${port}/`, `:${p}/`));
      assert.equal(await runHealthcheck(onPort(healthy.port), {}), 0, `${name} healthy`);
      assert.equal(await runHealthcheck(onPort(unhealthy.port), {}), 1, `${name} unhealthy`);
    }
  } finally {
    await healthy.close();
    await unhealthy.close();
  }
});

Deno.test(".dockerignore keeps local state out and what the image needs in", async () => {
  const patterns = (await readRequired(repoFile(".dockerignore"), "build context filter"))
    .split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  for (const needed of [".git", "**/node_modules", "backups", ".env"]) {
    assert.ok(patterns.includes(needed), `.dockerignore should exclude ${needed}`);
  }
  for (const kept of ["deno.json", "deno.lock", "lib", "services", "ops", "proto", "scripts"]) {
    assert.ok(!patterns.includes(kept), `.dockerignore must not exclude ${kept}`);
  }
});
