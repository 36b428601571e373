/**
 * The smoke test's steps and how long each took, printed as a table at the end.
 *
 * @module
 */

/** One finished (or failed) step. */
export interface StepTime {
  name: string;
  ms: number;
  outcome: "ok" | "FAILED" | "skipped";
}

/**
 * Times named steps, announcing each as it starts.
 *
 * @example
 * ```ts
 * const clock = new StepClock();
 * await clock.step("start the engine", () => engine.start());
 * console.log(clock.table());
 * ```
 */
export class StepClock {
  readonly steps: StepTime[] = [];

  constructor(private readonly announce: (line: string) => void = console.log) {}

  /** Runs `work` as the step `name`; records its time whether it succeeds or throws. */
  async step<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.announce(`\n==> ${name}`);
    const started = performance.now();
    try {
      const value = await work();
      this.steps.push({ name, ms: performance.now() - started, outcome: "ok" });
      return value;
    } catch (error) {
      this.steps.push({ name, ms: performance.now() - started, outcome: "FAILED" });
      throw error;
    }
  }

  /** Records a step that was not run. */
  skip(name: string): void {
    this.steps.push({ name, ms: 0, outcome: "skipped" });
  }

  /** The steps as an aligned table with a total. */
  table(): string {
    return formatTimings(this.steps);
  }
}

/**
 * Renders step times: one line per step (seconds with one decimal), then the total.
 *
 * @example
 * ```ts
 * formatTimings([{ name: "build", ms: 61_234, outcome: "ok" }]);
 * // "build   61.2 s  ok\ntotal   61.2 s"
 * ```
 */
export function formatTimings(steps: StepTime[]): string {
  const width = Math.max(5, ...steps.map((s) => s.name.length));
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
  const lines = steps.map((s) => `${s.name.padEnd(width)} ${seconds(s.ms)}  ${s.outcome}`);
  const total = steps.reduce((sum, s) => sum + s.ms, 0);
  lines.push(`${"total".padEnd(width)} ${seconds(total)}`);
  return lines.join("\n");
}
