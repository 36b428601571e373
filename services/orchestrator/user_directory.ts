/**
 * The User Service as the orchestrator's directory of online developers: a Connect client
 * speaking binary protobuf (smaller and cheaper to decode than JSON) with a service identity, a deadline per call, a few retries with backoff, and a circuit breaker so
 * that a User Service outage causes no call storm (callers get {@link DependencyUnavailableError}
 * at once and retry the task later).
 *
 * @module
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { UserService } from "@platform/proto/users/v1";
import type { TokenService } from "@platform/lib/auth";
import { DependencyUnavailableError } from "@platform/lib/errors";
import type { Logger } from "@platform/lib/log";
import { rpcClientTracing } from "@platform/lib/tracing";
import { CircuitBreaker, RetriesExhaustedError, retry } from "@platform/lib/runtime";
import type { Amount, CandidateProfile, ScoringParams } from "./matching/scoring.ts";

/** What a ranked lookup asks for: one task's terms and the developers to leave out. */
export interface RankQuery {
  /** Normalised required skills. */
  skills: readonly string[];
  budget?: Amount;
  params: ScoringParams;
  /** Never returned (already proposed to, the client, over the fairness cap). */
  exclude: readonly string[];
  limit: number;
}

/** Where candidates come from (the User Service, or a fake in benchmarks). */
export interface CandidateSource {
  /**
   * The best `limit` online developers for the task, ranked by the User Service in SQL with the
   * matcher's score for a developer with no history (one unary call).
   */
  rankCandidates(query: RankQuery): Promise<CandidateProfile[]>;
}

/** Settings of the directory. */
export interface UserDirectoryOptions {
  baseUrl: string;
  tokens: TokenService;
  logger: Logger;
  timeoutMs: number;
  retries: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
}

const RETRYABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Aborted]);

/**
 * The User Service client.
 *
 * @example
 * ```ts
 * const directory = new UserDirectory({ baseUrl, tokens, logger, timeoutMs: 3000, retries: 2, breakerThreshold: 3, breakerCooldownMs: 5000 });
 * const devs = await directory.rankCandidates({ skills: ["go"], params, exclude: [], limit: 20 });
 * ```
 */
export class UserDirectory implements CandidateSource {
  readonly breaker: CircuitBreaker;
  private readonly client;
  private token?: { value: string; refreshAt: number };

  constructor(private readonly options: UserDirectoryOptions) {
    this.breaker = new CircuitBreaker(options.breakerThreshold, options.breakerCooldownMs);
    const auth: Interceptor = (next) => async (req) => {
      req.header.set("authorization", `Bearer ${await this.serviceToken()}`);
      return next(req);
    };
    this.client = createClient(
      UserService,
      createConnectTransport({
        baseUrl: options.baseUrl,
        interceptors: [rpcClientTracing(), auth],
        useBinaryFormat: true,
      }),
    );
  }

  /** RankCandidates: the best few online developers for a task, ranked in SQL. */
  async rankCandidates(query: RankQuery): Promise<CandidateProfile[]> {
    return await this.call(async () => {
      const w = query.params.weights;
      const res = await this.client.rankCandidates(
        {
          skillTags: [...query.skills],
          budget: query.budget
            ? { currency: query.budget.currency, amountMinor: BigInt(query.budget.amountMinor) }
            : undefined,
          minSkillCoverage: query.params.minSkillCoverage,
          rateReferenceHours: query.params.rateReferenceHours,
          weights: {
            skill: w.skill,
            trackRecord: w.trackRecord,
            rate: w.rate,
            load: w.load,
            fairness: w.fairness,
          },
          excludeIds: [...query.exclude],
          limit: query.limit,
        },
        { timeoutMs: this.options.timeoutMs },
      );
      return res.candidates.map((c) => ({
        developerId: c.developerId,
        skillTags: c.skillTags,
        hourlyRate: c.hourlyRate && c.hourlyRate.currency
          ? { currency: c.hourlyRate.currency, amountMinor: Number(c.hourlyRate.amountMinor) }
          : undefined,
      }));
    });
  }

  /** One call with the breaker, retries with jittered backoff on transient errors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) {
      throw new DependencyUnavailableError(
        "user_service",
        new Error("circuit open after repeated failures"),
      );
    }
    let out: T;
    try {
      out = await retry(fn, {
        retries: this.options.retries,
        backoff: { initialMs: 100, factor: 3, jitter: true },
        transient: (error) => RETRYABLE.has(ConnectError.from(error).code),
      });
    } catch (error) {
      if (!(error instanceof RetriesExhaustedError)) {
        // A non-transient answer (bad request, permission): the service is up; do not retry.
        this.breaker.success();
        throw error;
      }
      this.breaker.failure();
      if (this.breaker.state !== "closed") {
        this.options.logger.warn("user service unavailable; circuit open", {
          error: error.cause,
        });
      }
      throw new DependencyUnavailableError("user_service", error.cause);
    }
    this.breaker.success();
    return out;
  }

  /** The health check: the User Service answers /readyz. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await fetch(new URL("/readyz", this.options.baseUrl), { signal });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`user service /readyz answered ${res.status}`);
  }

  private async serviceToken(): Promise<string> {
    if (!this.token || Date.now() >= this.token.refreshAt) {
      const { token } = await this.options.tokens.issueServiceToken("orchestrator", 3600);
      this.token = { value: token, refreshAt: Date.now() + 30 * 60_000 };
    }
    return this.token.value;
  }
}
