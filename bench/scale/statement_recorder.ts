/**
 * The services' own stores on a connection that records every statement they send, so the scale
 * benchmark can time a sweep through the code that runs it (in a transaction it rolls back) and
 * show `EXPLAIN (ANALYZE, BUFFERS)` of exactly the SQL the code wrote, with its parameters: no
 * copy of a statement to drift from the stores.
 *
 * @module
 */
import postgres from "postgres";
import { Database } from "@platform/lib/db";
import type { Sql } from "@platform/lib/db";

/** A statement as the store sent it. */
export interface RecordedStatement {
  query: string;
  parameters: unknown[];
}

/** Thrown inside a transaction to roll it back. */
class Rollback extends Error {}

/**
 * A {@link Database} (the class the stores take) whose pool records what it sends.
 *
 * @example
 * ```ts
 * const recorder = new StatementRecorder(url);
 * const statements = await recorder.record(() => new TaskStore(recorder.db).get(id));
 * ```
 */
export class StatementRecorder {
  /** The database to build stores on. */
  readonly db: Database;
  private recording?: RecordedStatement[];
  private readonly plain: postgres.Sql;

  constructor(url: string) {
    this.db = new Database(url, {
      maxConnections: 2,
      maxLifetimeSeconds: 3600,
      idleTimeoutSeconds: 60,
      connectTimeoutSeconds: 10,
      queryTimeoutMs: 600_000,
    }, "scale-bench");
    const recording = postgres(url, {
      max: 2,
      onnotice: () => {},
      types: { bigint: postgres.BigInt },
      connection: { application_name: "scale-bench" },
      debug: (_connection: number, query: string, parameters: unknown[]) => {
        this.recording?.push({ query, parameters });
      },
    });
    // The stores only reach the pool through Database.run/transaction, which use `sql`.
    Object.defineProperty(this.db, "sql", { value: recording });
    this.plain = postgres(url, { max: 1, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  }

  /** Runs `work` and returns the statements it sent, in order. */
  async record(work: () => Promise<unknown>): Promise<RecordedStatement[]> {
    this.recording = [];
    try {
      await work();
      return this.recording;
    } finally {
      this.recording = undefined;
    }
  }

  /** Runs `work` in a transaction that is rolled back, and returns how long `work` took in ms. */
  async timeRolledBack(
    work: (tx: Parameters<Parameters<Database["transaction"]>[0]>[0]) => Promise<unknown>,
  ): Promise<number> {
    let elapsed = NaN;
    try {
      await this.db.transaction(async (tx) => {
        const started = performance.now();
        await work(tx);
        elapsed = performance.now() - started;
        throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
    }
    return elapsed;
  }

  /**
   * `EXPLAIN (ANALYZE, BUFFERS)` of a recorded statement, in a transaction rolled back (a sweep's
   * UPDATE changes nothing); `seqscanOff` asks the planner to avoid sequential scans, so a Seq
   * Scan left in the plan means no index can serve the statement.
   */
  async explain(statement: RecordedStatement, seqscanOff = false): Promise<string> {
    const lines: string[] = [];
    try {
      await this.plain.begin(async (tx) => {
        if (seqscanOff) await tx.unsafe(`SET LOCAL enable_seqscan = off`);
        const rows = await tx.unsafe(`EXPLAIN (ANALYZE, BUFFERS) ${inlineParameters(statement)}`);
        for (const row of rows) lines.push(String(row["QUERY PLAN"]));
        throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) throw error;
    }
    return lines.join("\n");
  }

  /** A plain client on the same database (for the benchmark's own queries). */
  get sql(): Sql {
    return this.plain as unknown as Sql;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    await Promise.all([this.db.close(1), this.plain.end({ timeout: 1 })]);
  }
}

/**
 * The statement with its parameters written in as untyped literals (the server infers their
 * types from the statement, as it does for the parameters). The values are those the driver sent:
 * it serialises them in place when it binds them, after recording.
 */
function inlineParameters(statement: RecordedStatement): string {
  return statement.query.replace(/\$(\d+)\b/g, (_, n: string) => {
    const value = statement.parameters[Number(n) - 1];
    if (value === null || value === undefined) return "NULL";
    return `'${String(value).replaceAll("'", "''")}'`;
  });
}
