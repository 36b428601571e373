/**
 * Where ops programs write: results on stdout, warnings and errors on stderr, and a progress line
 * that is drawn only on a terminal (never in logs or pipes). Tests capture everything instead.
 *
 * @module
 */

/** Something that takes text. */
export type Sink = (text: string) => void;

/**
 * The output of one ops program.
 *
 * @example
 * ```ts
 * const out = Output.console();
 * out.line("Backup complete");
 * out.progress("dumped 12 MiB"); // only on a terminal
 * ```
 */
export class Output {
  private progressShown = false;

  /**
   * An output writing to the given sinks; see {@linkcode Output.console} and
   * {@linkcode captureOutput} for the usual ones.
   */
  constructor(
    private readonly stdout: Sink,
    private readonly stderr: Sink,
    /** True when stderr is a terminal: progress lines and tables for humans. */
    readonly isTTY: boolean,
    /** True when stdin is a terminal: the program may ask questions. */
    readonly interactive: boolean,
    private readonly ask: (question: string) => string | null = () => null,
  ) {}

  /** The process's own stdout/stderr. */
  static console(): Output {
    const encoder = new TextEncoder();
    return new Output(
      (text) => Deno.stdout.writeSync(encoder.encode(text)),
      (text) => Deno.stderr.writeSync(encoder.encode(text)),
      Deno.stderr.isTerminal(),
      Deno.stdin.isTerminal() && Deno.stderr.isTerminal(),
      (question) => prompt(question),
    );
  }

  /**
   * The same output with result lines sent to stderr, so that stdout carries only JSON.
   *
   * @example
   * ```ts
   * const human = json ? output.linesToStderr() : output;
   * ```
   */
  linesToStderr(): Output {
    return new Output(this.stderr, this.stderr, this.isTTY, this.interactive, this.ask);
  }

  /** A line of result on stdout. */
  line(text = ""): void {
    this.clearProgress();
    this.stdout(text + "\n");
  }

  /** A warning or error line on stderr. */
  warn(text: string): void {
    this.clearProgress();
    this.stderr(text + "\n");
  }

  /** Redraws the progress line (terminal only). */
  progress(text: string): void {
    if (!this.isTTY) return;
    this.stderr(`\r\x1b[2K${text}`);
    this.progressShown = true;
  }

  /** Removes the progress line, if any. */
  clearProgress(): void {
    if (!this.progressShown) return;
    this.stderr("\r\x1b[2K");
    this.progressShown = false;
  }

  /** Asks a question on the terminal; null when there is no terminal or no answer. */
  question(text: string): string | null {
    if (!this.interactive) return null;
    this.clearProgress();
    return this.ask(text);
  }
}

/** Output captured in memory, for tests. */
export interface CapturedOutput {
  /** The output to pass to the program. */
  output: Output;
  /** What was written to stdout, one entry per write. */
  stdout: string[];
  /** What was written to stderr, one entry per write. */
  stderr: string[];
  /** Everything written, stdout and stderr interleaved. */
  text(): string;
}

/**
 * Output written to arrays; `answers` are given, in order, to questions when `interactive`.
 *
 * @example
 * ```ts
 * const cap = captureOutput();
 * cap.output.line("hello");
 * cap.stdout; // ["hello\n"]
 * ```
 */
export function captureOutput(
  options: { isTTY?: boolean; interactive?: boolean; answers?: string[] } = {},
): CapturedOutput {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const all: string[] = [];
  const answers = [...(options.answers ?? [])];
  const output = new Output(
    (text) => {
      stdout.push(text);
      all.push(text);
    },
    (text) => {
      stderr.push(text);
      all.push(text);
    },
    options.isTTY ?? false,
    options.interactive ?? false,
    (question) => {
      all.push(question);
      return answers.shift() ?? null;
    },
  );
  return { output, stdout, stderr, text: () => all.join("") };
}
