/**
 * Group commit: concurrent requests share one statement (one transaction) instead of one each.
 * A request that arrives while `maxInFlight` commits are running waits and joins the next batch
 * (up to `maxBatch` members); when nothing is in flight, it goes at once, alone. The commit
 * function gets the batch and returns one result per member, in order.
 *
 * Each member still gets its own answer. When a batch fails, `isolate(error)` decides: true
 * (an error one member may have caused, such as a constraint violation) retries every member
 * on its own, so a bad member fails alone and the others commit; false (the database is
 * unavailable, a timeout) fails every member with that error, without retrying: the statement
 * was refused ("unavailable") or its outcome is unknown (`OutcomeUnknownError`, once it was
 * sent), exactly as for a lone request, and the callers decide whether to retry (with the same
 * idempotency key when the outcome is unknown). The isolated retries run one after another, so a struggling
 * database gets no burst of them.
 *
 * The queue is bounded: beyond `maxWaiting` waiting requests, or once a request has waited
 * `maxWaitMs` without its batch starting, it is refused with {@link DependencyUnavailableError}
 * (never sent, so nothing of it is stored): a database that stalls turns into quick "unavailable"
 * answers, not a queue that grows and commits requests whose callers gave up long ago.
 *
 * @module
 */
import { DependencyUnavailableError } from "../errors.ts";

/** Settings of a {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Most members of one batch. Default 64. */
  maxBatch?: number;
  /** Most batches committing at once. Default 2. */
  maxInFlight?: number;
  /** True when a batch's error should be retried member by member. Default: never. */
  isolate?: (error: unknown) => boolean;
  /** Most requests waiting for a batch; more are refused. Default maxBatch x maxInFlight x 4. */
  maxWaiting?: number;
  /** Longest a request waits for its batch to start before it is refused. Default 5000 ms. */
  maxWaitMs?: number;
}

interface Pending<In, Out> {
  item: In;
  since: number;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches concurrent submissions into shared commits.
 *
 * @example
 * ```ts ignore
 * const inserts = new GroupCommit<string, number>(
 *   async (names) => (await insertAll(names)).map((row) => row.id),
 *   { isolate: (error) => !(error instanceof DependencyUnavailableError) },
 * );
 * const id = await inserts.submit("ada");
 * ```
 */
export class GroupCommit<In, Out> {
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly isolate: (error: unknown) => boolean;
  private readonly maxWaiting: number;
  private readonly maxWaitMs: number;
  private queue: Pending<In, Out>[] = [];
  private inFlight = 0;

  /**
   * A batcher around `commit`.
   *
   * @param commit Commits a batch; resolves with one result per member, in order.
   */
  constructor(
    private readonly commit: (items: In[]) => Promise<Out[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
    this.isolate = options.isolate ?? (() => false);
    this.maxWaiting = Math.max(1, options.maxWaiting ?? this.maxBatch * this.maxInFlight * 4);
    this.maxWaitMs = Math.max(1, options.maxWaitMs ?? 5000);
  }

  /** Commits `item` in the next batch; resolves with its own result or rejects with its error. */
  submit(item: In): Promise<Out> {
    if (this.queue.length >= this.maxWaiting) {
      return Promise.reject(
        new DependencyUnavailableError(
          "database",
          new Error(`${this.queue.length} requests already wait for a commit`),
        ),
      );
    }
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, since: Date.now(), resolve, reject });
      this.pump();
    });
  }

  /** Requests waiting for a batch (not counting those committing). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Starts batches while fewer than `maxInFlight` commit and requests wait. */
  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const startedAfter = Date.now() - this.maxWaitMs;
      const batch = this.queue.splice(0, this.maxBatch).filter((p) => {
        if (p.since >= startedAfter) return true;
        p.reject(
          new DependencyUnavailableError(
            "database",
            new Error(`no commit started within ${this.maxWaitMs}ms`),
          ),
        );
        return false;
      });
      if (batch.length === 0) continue;
      this.inFlight++;
      this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Commits one batch and answers each member (retrying them alone when isolated). */
  private async run(batch: Pending<In, Out>[]): Promise<void> {
    try {
      const results = await this.commit(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`group commit: ${results.length} results for ${batch.length} members`);
      }
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (error) {
      let isolate = false;
      try {
        isolate = batch.length > 1 && this.isolate(error);
      } catch {
        // A failing predicate answers as "do not isolate".
      }
      if (!isolate) {
        for (const p of batch) p.reject(error);
        return;
      }
      // One member may have caused it: each on its own, one after another, so only that one
      // fails and the database gets no burst.
      for (const p of batch) {
        try {
          const [result] = await this.commit([p.item]);
          p.resolve(result);
        } catch (alone) {
          p.reject(alone);
        }
      }
    }
  }
}
