/**
 * The operators' status page: each service's `/health` (status, checks, uptime, version) and the
 * business metrics, refreshing on its own. Needs no sign-in: it shows what `/health` and
 * `/metrics` show to whoever may read them (behind the edge, `/metrics` is for the scraper only: the
 * business figures then read "—").
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useApp } from "../context.ts";
import { SERVICE_LABELS } from "../endpoints.ts";
import { describeError } from "../errors.ts";
import { percentage } from "../format.ts";
import { FEED_INTERVALS, type PlatformStatus, watchPlatformStatus } from "../live/feeds.ts";
import { Badge, Section } from "./components.tsx";

const tone = (status: string | undefined) =>
  status === "healthy" ? "good" : status === "degraded" ? "warn" : "bad";

/**
 * The status page.
 *
 * @example
 * ```tsx
 * <StatusPage />
 * ```
 */
export function StatusPage(): JSX.Element {
  const { api } = useApp();
  const [status, setStatus] = useState<PlatformStatus>();

  useEffect(() => {
    const feed = watchPlatformStatus(api, { onValue: setStatus, onError: () => {} });
    return () => feed.stop();
  }, [api]);

  const count = (n: number | undefined) => n === undefined ? "—" : String(Math.round(n));
  return (
    <div class="page">
      <h1 tabIndex={-1}>Platform status</h1>
      <p class="muted" role="status" aria-live="off">
        {status
          ? `Updated ${status.updatedAt.toLocaleTimeString()}; refreshes every ${
            FEED_INTERVALS.status / 1000
          } seconds.`
          : "Asking the services…"}
      </p>
      <Section title="Business metrics" id="metrics">
        <dl class="metrics">
          <div>
            <dt>Developers online</dt>
            <dd id="metric-online">{count(status?.onlineDevelopers)}</dd>
          </div>
          <div>
            <dt>Tasks created</dt>
            <dd id="metric-tasks">{count(status?.tasksCreated)}</dd>
            <p class="hint">since the Task Service started</p>
          </div>
          <div>
            <dt>Match success rate</dt>
            <dd id="metric-match-rate">
              {status
                ? percentage(status.matchesSuccessful ?? 0, status.matchesAttempted ?? 0)
                : "—"}
            </dd>
            <p class="hint">
              {status?.matchesAttempted
                ? `${count(status.matchesSuccessful)} of ${count(status.matchesAttempted)} tasks`
                : "no matching attempted yet"}; alert below 80%
            </p>
          </div>
        </dl>
      </Section>
      <Section title="Services" id="services">
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Health of each service</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Status</th>
                <th scope="col">Dependencies</th>
                <th scope="col">Uptime</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {(status?.services ?? []).map(({ name, reading, error }) => (
                <tr key={name} data-service={name}>
                  <th scope="row">{SERVICE_LABELS[name]}</th>
                  <td>
                    {reading
                      ? <Badge tone={tone(reading.report.status)}>{reading.report.status}</Badge>
                      : <Badge tone="bad">unreachable</Badge>}
                    {error !== undefined && (
                      <p class="hint">{describeError(error, SERVICE_LABELS[name]).message}</p>
                    )}
                  </td>
                  <td>
                    {reading
                      ? (
                        <ul class="checks">
                          {Object.entries(reading.report.checks).map(([dep, state]) => (
                            <li key={dep}>
                              {dep}: <Badge tone={tone(state)}>{state}</Badge>
                            </li>
                          ))}
                        </ul>
                      )
                      : "—"}
                  </td>
                  <td>{reading?.report.uptime ?? "—"}</td>
                  <td>{reading?.report.version ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
    </div>
  );
}
