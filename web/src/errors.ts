/**
 * Turns a failed call into words a person can act on: which field to fix, whether to sign in
 * again, or that a service is out of reach and the page keeps trying.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusEndpointError } from "@platform/client";

/** What kind of problem it is, which decides where the page shows it. */
export type ProblemKind =
  | "input"
  | "signin"
  | "session"
  | "conflict"
  | "forbidden"
  | "state"
  | "missing"
  | "unreachable"
  | "other";

/** A problem described for a person. */
export interface Problem {
  kind: ProblemKind;
  /** A sentence to show. */
  message: string;
  /** The request field at fault (proto name, such as `display_name`), for input problems. */
  field?: string;
}

/**
 * True when the error means the service could not be reached (no answer, a proxy's 502/503/504,
 * a deadline passed, or the browser refused the response, as it does when CORS forbids it).
 *
 * @example
 * ```ts
 * isUnreachable(new ConnectError("Failed to fetch", Code.Unknown)); // true
 * ```
 */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof StatusEndpointError) return [502, 503, 504].includes(error.httpStatus);
  if (error instanceof DOMException) {
    return error.name === "TimeoutError" || error.name === "AbortError";
  }
  if (!(error instanceof ConnectError)) return error instanceof TypeError;
  if (error.code === Code.Unavailable || error.code === Code.DeadlineExceeded) return true;
  return error.code === Code.Unknown &&
    /failed to fetch|networkerror|load failed|network error|fetch failed/i.test(error.rawMessage);
}

/**
 * Describes an error from a call to `serviceLabel` ("Task Service").
 *
 * @example
 * ```ts
 * describeError(new ConnectError("title: must not be empty", Code.InvalidArgument), "Task Service");
 * // { kind: "input", field: "title", message: "Title: must not be empty." }
 * ```
 */
export function describeError(error: unknown, serviceLabel: string): Problem {
  if (error instanceof ConnectError && error.code === Code.DeadlineExceeded) {
    return {
      kind: "unreachable",
      message: `The ${serviceLabel} did not answer in time. Check whether it was done before ` +
        "trying again.",
    };
  }
  if (isUnreachable(error)) {
    return {
      kind: "unreachable",
      message: `The ${serviceLabel} cannot be reached right now, so this was probably not ` +
        "done. Try again in a moment.",
    };
  }
  if (!(error instanceof ConnectError)) {
    return { kind: "other", message: `Something went wrong: ${String(error)}` };
  }
  const text = sentence(error.rawMessage);
  switch (error.code) {
    case Code.InvalidArgument:
    case Code.OutOfRange: {
      const match = /^([a-z_][\w.]*): (.+)$/s.exec(error.rawMessage);
      if (!match) return { kind: "input", message: text };
      return {
        kind: "input",
        field: match[1],
        message: `${fieldLabel(match[1])}: ${withStop(match[2])}`,
      };
    }
    case Code.Unauthenticated:
      return /wrong email or password/i.test(error.rawMessage)
        ? { kind: "signin", message: "Wrong email or password. Check both and try again." }
        : { kind: "session", message: "Your session has ended. Please sign in again." };
    case Code.AlreadyExists:
      return { kind: "conflict", message: text };
    case Code.PermissionDenied:
      return { kind: "forbidden", message: text };
    case Code.FailedPrecondition:
    case Code.Aborted:
      return { kind: "state", message: text };
    case Code.NotFound:
      return { kind: "missing", message: text };
    case Code.ResourceExhausted: {
      // A limit with a retry-after (failed logins, sign-ups from one address): say when.
      const wait = Number(error.metadata.get("retry-after"));
      if (Number.isFinite(wait) && wait > 0) {
        return {
          kind: "input",
          message: `Too many attempts. Try again in ${
            wait < 90 ? `${wait} seconds` : `${Math.ceil(wait / 60)} minutes`
          }.`,
        };
      }
      return { kind: "input", message: `Too much at once: ${text}` };
    }
    default:
      return {
        kind: "other",
        message: `The ${serviceLabel} failed to answer (${Code[error.code]}). Try again; if it ` +
          "keeps happening, tell an operator.",
      };
  }
}

/**
 * A request field's proto name as a label: `display_name` -> "Display name",
 * `budget.amount_minor` -> "Budget".
 *
 * @example
 * ```ts
 * fieldLabel("hourly_rate.currency"); // "Hourly rate currency"
 * ```
 */
export function fieldLabel(field: string): string {
  const words = field.replace(/\.amount_minor$/, "").replace(/\.(tags|skills)$/, "")
    .replace(/[._]/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return withStop(trimmed.charAt(0).toUpperCase() + trimmed.slice(1));
}

function withStop(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
