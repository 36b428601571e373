/**
 * Child processes the harness starts, and their cleanup: every process is killed when the test
 * module unloads, even when a test fails half-way.
 *
 * @module
 */

const running = new Set<Deno.ChildProcess>();
const tempDirs = new Set<string>();

globalThis.addEventListener("unload", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  for (const dir of tempDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already removed */ }
  }
});

/**
 * A temporary directory removed when the test module unloads (if a test did not remove it).
 *
 * @example
 * ```ts
 * const dir = await trackedTempDir("fp-pg-");
 * ```
 */
export async function trackedTempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  tempDirs.add(dir);
  return dir;
}

/** Options of {@link spawnTracked}. */
export interface SpawnOptions {
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Run as the `postgres` system user when we are root (initdb and postgres refuse root). */
  asPostgresUser?: boolean;
}

/**
 * Spawns a process whose output is collected, and tracks it for cleanup.
 *
 * @example
 * ```ts
 * const child = spawnTracked("redis-server", { args: ["--port", "0"] });
 * ```
 */
export function spawnTracked(command: string, options: SpawnOptions): TrackedProcess {
  let cmd = command;
  let args = options.args;
  if (options.asPostgresUser && Deno.uid() === 0) {
    // setpriv execs in place (runuser would stay as a parent that does not pass on signals).
    cmd = "setpriv";
    args = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", command, ...args];
  }
  const child = new Deno.Command(cmd, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  running.add(child);
  const tracked = new TrackedProcess(child);
  child.status.finally(() => running.delete(child));
  return tracked;
}

/** A running child with its output kept in memory, line by line. */
export class TrackedProcess {
  readonly lines: string[] = [];
  private readonly waiters: Array<
    { test: (line: string) => boolean; resolve: (l: string) => void }
  > = [];
  readonly status: Promise<Deno.CommandStatus>;
  private readonly listeners: Array<(line: string) => void> = [];

  constructor(readonly child: Deno.ChildProcess) {
    this.status = child.status;
    this.pump(child.stdout);
    this.pump(child.stderr);
  }

  /** Resolves with the first line (past or future) that passes `test`. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 20_000, what = "line"): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`timed out waiting for ${what}; output:\n${this.lines.slice(-30).join("\n")}`),
        );
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      this.status.then((status) => {
        clearTimeout(timer);
        reject(
          new Error(
            `process exited (${status.code}) before ${what}; output:\n${
              this.lines.slice(-30).join("\n")
            }`,
          ),
        );
      });
    });
  }

  /** Calls `listener` with every line written from now on (to keep a log file, say). */
  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  /** Sends a signal if the process still runs. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch { /* already exited */ }
  }

  /**
   * Sends a signal to the process and every descendant (PostgreSQL's backends are children of
   * the postmaster: freezing only the postmaster would leave them answering).
   */
  killTree(signal: Deno.Signal): void {
    const root = this.child.pid;
    const name = commandName(root);
    this.kill(signal);
    // PIDs are reused quickly on a busy machine: only descendants running the same program.
    for (const pid of descendants(root)) {
      if (name === undefined || commandName(pid) !== name) continue;
      try {
        Deno.kill(pid, signal);
      } catch { /* gone meanwhile */ }
    }
  }

  private async pump(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        if (this.lines.length > 5000) this.lines.splice(0, 1000);
        for (const listener of this.listeners) listener(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    }
  }
}

function commandName(pid: number): string | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return undefined;
  }
}

/**
 * The process ids below `pid` (children, grandchildren...), read from /proc.
 *
 * @example
 * ```ts
 * descendants(Deno.pid); // []
 * ```
 */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const list = parents.get(ppid) ?? [];
        list.push(Number(entry.name));
        parents.set(ppid, list);
      } catch { /* exited meanwhile */ }
    }
  } catch {
    return [];
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * A TCP port free right now on 127.0.0.1.
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  // The kernel may hand the same free port out twice in a row once the probe is closed; a port
  // given to one server of this test process is never given to another.
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (!portsGiven.has(port)) {
      portsGiven.add(port);
      return port;
    }
  }
}

const portsGiven = new Set<number>();

/**
 * Resolves once `probe` succeeds, retrying until the timeout.
 *
 * @example
 * ```ts
 * await waitUntil(() => Deno.connect({ port }).then((c) => c.close()), 10_000, "redis");
 * ```
 */
export async function waitUntil(
  probe: () => Promise<unknown>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not come up within ${timeoutMs}ms: ${lastError}`);
}

/**
 * True when a command is on PATH.
 *
 * @example
 * ```ts
 * if (!hasCommand("nats-server")) console.log("using NATS_URL instead");
 * ```
 */
export function hasCommand(name: string): boolean {
  try {
    const result = new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return result.success;
  } catch {
    return false;
  }
}
