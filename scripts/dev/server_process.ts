/**
 * A server process `deno task start` started itself (PostgreSQL, nats-server, redis-server).
 *
 * It runs in a session of its own (`setsid`), so the Ctrl-C a terminal sends to the whole
 * foreground group does not reach it: the services drain first, and only then are the servers
 * under them stopped. Its output is kept (the last lines) for the error message if it fails to
 * start; its log goes to a file under the data folder.
 *
 * @module
 */

/** How to start one server. */
export interface ServerCommand {
  /** Shown in messages: "PostgreSQL", "nats-server", ... */
  label: string;
  program: string;
  args: string[];
  /** Run as this user (when we are root: PostgreSQL refuses to run as root). */
  user?: string;
  env?: Record<string, string>;
  /** The signal that stops it cleanly (PostgreSQL: SIGINT, a fast shutdown). */
  stopSignal?: Deno.Signal;
  /** A file its output is appended to. */
  logFile?: string;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * const redis = ServerProcess.spawn({ label: "redis-server", program: "redis-server", args: [] });
 * await redis.stop();
 * ```
 */
export class ServerProcess {
  private readonly output: string[] = [];
  private exited = false;
  private readonly log?: Deno.FsFile;
  private readonly encoder = new TextEncoder();

  private constructor(readonly command: ServerCommand, private readonly child: Deno.ChildProcess) {
    if (command.logFile) {
      this.log = Deno.openSync(command.logFile, { append: true, create: true });
    }
    child.status.then(() => this.exited = true);
    Promise.all([this.collect(child.stdout), this.collect(child.stderr)]).finally(() =>
      this.log?.close()
    );
  }

  /** Starts the server in its own session. */
  static spawn(command: ServerCommand): ServerProcess {
    const args = command.user && Deno.uid() === 0
      ? [
        `--reuid=${command.user}`,
        `--regid=${command.user}`,
        "--init-groups",
        "--",
        command.program,
        ...command.args,
      ]
      : [command.program, ...command.args];
    const child = new Deno.Command("setsid", {
      // setpriv execs in place, so the pid we signal is the server's.
      args: command.user && Deno.uid() === 0 ? ["setpriv", ...args] : args,
      env: command.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new ServerProcess(command, child);
  }

  /** The process id. */
  get pid(): number {
    return this.child.pid;
  }

  /** Whether it has exited. */
  get hasExited(): boolean {
    return this.exited;
  }

  /** Resolves when it exits. */
  get status(): Promise<Deno.CommandStatus> {
    return this.child.status;
  }

  /** The last lines it printed (for an error message). */
  recentOutput(lines = 15): string {
    return this.output.slice(-lines).join("\n");
  }

  /** Stops it with its stop signal; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.exited) return;
    try {
      this.child.kill(this.command.stopSignal ?? "SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, timeoutMs);
    try {
      await this.child.status;
    } finally {
      clearTimeout(timer);
    }
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let buffer = "";
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        this.output.push(...lines);
        if (this.log && lines.length) {
          this.log.writeSync(this.encoder.encode(lines.join("\n") + "\n"));
        }
        if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
      }
    } catch { /* the process is gone */ }
    if (buffer) {
      this.output.push(buffer);
      this.log?.writeSync(this.encoder.encode(buffer + "\n"));
    }
  }
}

/**
 * Waits until `ready` resolves, failing early with the server's own words if it exits first.
 *
 * @example
 * ```ts
 * await waitUntilReady(server, () => answers(4222), 20_000);
 * ```
 */
export async function waitUntilReady(
  server: ServerProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.hasExited) {
      const { code } = await server.status;
      throw new DependencyError(
        `${server.command.label} exited with code ${code} while starting:\n` +
          indent(server.recentOutput()),
      );
    }
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop(2000);
  throw new DependencyError(
    `${server.command.label} did not become ready within ${timeoutMs / 1000} s:\n` +
      indent(server.recentOutput()),
  );
}

/**
 * A dependency that cannot be provided; its message says what to do.
 *
 * @example
 * ```ts
 * throw new DependencyError("nats-server is not installed: sudo apt-get install nats-server");
 * ```
 */
export class DependencyError extends Error {
  override name = "DependencyError";
}

function indent(text: string): string {
  return text.split("\n").map((line) => `    ${line}`).join("\n");
}
