/**
 * A platform service run as a real process (`deno run services/<name>/main.ts`) on a free port,
 * as an operator would run it, with its JSON logs kept for assertions.
 *
 * @module
 */
import { spawnTracked, type TrackedProcess } from "./processes.ts";

const root = new URL("../../", import.meta.url);

/** A running service process. */
export class ServiceProcess {
  private constructor(
    readonly name: string,
    readonly process: TrackedProcess,
    readonly port: number,
  ) {}

  /**
   * Starts `services/<name>/main.ts` (or `script`, such as `web/main.ts`) with PORT=0 and the
   * given environment (and `denoFlags` before the script, such as `--cpu-prof`); resolves once
   * it logs "listening".
   *
   * @example
   * ```ts
   * const users = await ServiceProcess.start("users", { DATABASE_URL: url, REDIS_URL: redisUrl });
   * await fetch(`${users.url}/health`);
   * ```
   */
  static async start(
    name: string,
    env: Record<string, string>,
    script = `services/${name}/main.ts`,
    denoFlags: string[] = [],
  ): Promise<ServiceProcess> {
    const process = spawnTracked(Deno.execPath(), {
      args: ["run", "-A", "--quiet", ...denoFlags, script],
      cwd: root.pathname,
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        SHUTDOWN_GRACE_MS: "3000",
        // As the image runs them (deploy/Dockerfile): a 4 MiB young generation.
        DENO_V8_FLAGS: Deno.env.get("DENO_V8_FLAGS") ?? "--max-semi-space-size=4",
        // Deno reads it once, at start-up (traces name the service; see docs/operations.md).
        OTEL_SERVICE_NAME: `freelance-${name}`,
        // Every test client comes from 127.0.0.1: the per-address limits would count them all
        // as one attacker. Tests of the limits set their own (tests/users/auth_throttle_test.ts).
        LOGIN_ADDRESS_MAX_FAILURES: "1000000",
        REGISTER_ADDRESS_MAX_ATTEMPTS: "1000000",
        ...env,
      },
    });
    const line = await process.waitForLine(
      (l) => l.includes('"msg":"listening"'),
      60_000,
      `${name} to listen`,
    );
    return new ServiceProcess(name, process, JSON.parse(line).port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Log lines parsed as JSON (non-JSON lines skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.process.lines.flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
  }

  /** Sends SIGTERM and waits for the exit status. */
  async stop(): Promise<Deno.CommandStatus> {
    this.process.kill("SIGTERM");
    return await this.process.status;
  }
}
