/**
 * A platform service run as a real process (`deno run services/<name>/main.ts`) on a free port,
 * as an operator would run it, with its JSON logs kept for assertions.
 *
 * @module
 */
import { spawnTracked, type TrackedProcess } from "./processes.ts";

const root = new URL("../../", import.meta.url);

/** The `msg` a service logs for an unhandled rejection (lib/server/unhandled_rejections.ts). */
const UNHANDLED_REJECTION = '"msg":"unhandled rejection"';

/** A service's unhandled rejection, as it logged it. */
export interface ServiceRejection {
  service: string;
  line: string;
}

/**
 * What the harness does when a service it started logs an unhandled rejection (the service
 * survives it and counts it in `process_unhandled_rejections_total`). By default it throws an
 * uncaught error, which fails the test that is running: nothing is hidden. A program that
 * reports them itself (the chaos suite) replaces it.
 */
export const serviceRejections: { handle: (rejection: ServiceRejection) => void } = {
  handle(rejection) {
    setTimeout(() => {
      throw new Error(
        `${rejection.service} logged an unhandled rejection (a bug to fix at its cause):\n` +
          rejection.line,
      );
    });
  },
};

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
    const seen = (line: string) => {
      if (line.includes(UNHANDLED_REJECTION)) serviceRejections.handle({ service: name, line });
    };
    process.lines.forEach(seen);
    process.onLine(seen);
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
