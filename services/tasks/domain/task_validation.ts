/**
 * Pure validation and normalisation of task input. Every error is a ValidationError naming the
 * request field (proto name), which the server answers as `invalid_argument`.
 *
 * @module
 */
import {
  decodePageToken as decodeToken,
  encodePageToken as encodeToken,
  isUuid,
  normalizeCurrency,
  normalizeSkillTags,
  rejectControlCharacters,
} from "@platform/lib/domain";
import { ValidationError } from "@platform/lib/errors";
export { rejectControlCharacters };

export const MAX_TITLE_CHARS = 200;
export const MAX_DESCRIPTION_CHARS = 10_000;
export const MAX_SKILLS = 20;
export const MAX_AMOUNT_MINOR = 100_000_000_000n; // 1e11 minor units
export const MAX_REASON_CHARS = 1000;
export const MAX_DEADLINE_MS = 2 * 366 * 86_400_000; // about two years

/** Page tokens carry a created_at from 1970 to 9999 (PostgreSQL refuses years <= 0). */
const MIN_TOKEN_MS = Date.UTC(1970, 0, 1);
const MAX_TOKEN_MS = Date.UTC(10_000, 0, 1) - 1;

/** A budget after validation. */
export interface Budget {
  currency: string;
  amountMinor: bigint;
}

/**
 * The trimmed title, 1..200 characters, no control characters but tab and newline.
 *
 * @example
 * ```ts
 * validateTitle("  Build a site "); // "Build a site"
 * ```
 */
export function validateTitle(title: string, field = "title"): string {
  const trimmed = title.trim();
  if (trimmed === "") throw new ValidationError(field, "must not be empty");
  rejectControlCharacters(trimmed, field);
  if ([...trimmed].length > MAX_TITLE_CHARS) {
    throw new ValidationError(field, `must be at most ${MAX_TITLE_CHARS} characters`);
  }
  return trimmed;
}

/**
 * The trimmed description, at most 10000 characters (may be empty), no control characters but
 * tab and newline.
 *
 * @example
 * ```ts
 * validateDescription(" details "); // "details"
 * ```
 */
export function validateDescription(description: string, field = "description"): string {
  const trimmed = description.trim();
  rejectControlCharacters(trimmed, field);
  if ([...trimmed].length > MAX_DESCRIPTION_CHARS) {
    throw new ValidationError(field, `must be at most ${MAX_DESCRIPTION_CHARS} characters`);
  }
  return trimmed;
}

/**
 * Required skills, normalised exactly as developers' skill tags are (lib/domain/skill_tags.ts),
 * so that matching compares like with like; at most 20.
 *
 * @example
 * ```ts
 * normalizeSkills(["Go", "go", " rust "]); // ["go", "rust"]
 * ```
 */
export function normalizeSkills(skills: readonly string[], field = "required_skills"): string[] {
  return normalizeSkillTags(skills, field, MAX_SKILLS);
}

/**
 * The required skills of a new task or of an edit: normalised as {@link normalizeSkills}, and at
 * least one, as a task always keeps at least one skill (a skill-less task would be offered to
 * every developer). CreateTask checks `required_skills`, UpdateTask `required_skills.skills`.
 *
 * @example
 * ```ts
 * validateRequiredSkills(["Go"]); // ["go"]
 * validateRequiredSkills([]); // throws ValidationError naming required_skills
 * ```
 */
export function validateRequiredSkills(
  skills: readonly string[],
  field = "required_skills",
): string[] {
  const normalized = normalizeSkills(skills, field);
  if (normalized.length === 0) {
    throw new ValidationError(
      field,
      "must name at least one skill: a task always keeps at least one",
    );
  }
  return normalized;
}

/**
 * A budget: an allowed ISO currency and 1..1e11 minor units.
 *
 * @example
 * ```ts
 * validateBudget({ currency: "usd", amountMinor: 1500n }); // { currency: "USD", amountMinor: 1500n }
 * ```
 */
export function validateBudget(
  budget: { currency: string; amountMinor: bigint } | undefined,
  field = "budget",
): Budget {
  if (!budget) throw new ValidationError(field, "is required (currency and amount_minor)");
  const currency = normalizeCurrency(budget.currency, `${field}.currency`);
  const amount = BigInt(budget.amountMinor);
  if (amount < 1n || amount > MAX_AMOUNT_MINOR) {
    throw new ValidationError(
      `${field}.amount_minor`,
      `must be from 1 to ${MAX_AMOUNT_MINOR} minor units`,
    );
  }
  return { currency, amountMinor: amount };
}

/**
 * An optional deadline: in the future and less than two years away.
 *
 * @example
 * ```ts
 * validateDeadline(undefined); // undefined
 * ```
 */
export function validateDeadline(
  deadline: Date | undefined,
  now: Date = new Date(),
  field = "deadline",
): Date | undefined {
  if (deadline === undefined) return undefined;
  if (Number.isNaN(deadline.getTime())) throw new ValidationError(field, "is not a valid time");
  if (deadline.getTime() <= now.getTime()) {
    throw new ValidationError(field, "must be in the future");
  }
  if (deadline.getTime() - now.getTime() > MAX_DEADLINE_MS) {
    throw new ValidationError(field, "must be less than two years away");
  }
  return deadline;
}

/**
 * A UUID id (lower-cased), such as a task id.
 *
 * @example
 * ```ts
 * validateId(crypto.randomUUID(), "task_id");
 * ```
 */
export function validateId(id: string, field: string): string {
  const trimmed = id.trim();
  if (trimmed === "") throw new ValidationError(field, "is required");
  if (!isUuid(trimmed)) throw new ValidationError(field, "must be a UUID");
  return trimmed.toLowerCase();
}

/**
 * An optional free-text reason, trimmed, at most 1000 characters, no control characters but tab
 * and newline.
 *
 * @example
 * ```ts
 * validateReason(" budget cut "); // "budget cut"
 * ```
 */
export function validateReason(reason: string, field = "reason"): string {
  const trimmed = reason.trim();
  rejectControlCharacters(trimmed, field);
  if ([...trimmed].length > MAX_REASON_CHARS) {
    throw new ValidationError(field, `must be at most ${MAX_REASON_CHARS} characters`);
  }
  return trimmed;
}

/** Where the next page starts (keyset over created_at DESC, id DESC). */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

/**
 * Encodes a cursor as a page token (lib/domain's paging).
 *
 * @example
 * ```ts
 * encodePageToken({ createdAt: new Date(), id: crypto.randomUUID() });
 * ```
 */
export function encodePageToken(cursor: PageCursor): string {
  return encodeToken([cursor.createdAt.toISOString(), cursor.id]);
}

/**
 * Decodes a token made by {@link encodePageToken}; empty means the first page; anything else
 * (including a forged one with a time outside 1970..9999 or an id that is not a UUID) is
 * `invalid_argument` naming page_token.
 *
 * @example
 * ```ts
 * decodePageToken(""); // undefined
 * ```
 */
export function decodePageToken(token: string, field = "page_token"): PageCursor | undefined {
  return decodeToken(token, (parts) => {
    const [createdAt, id] = parts;
    if (parts.length !== 2 || typeof createdAt !== "string" || typeof id !== "string") return;
    if (!isUuid(id)) return;
    const date = new Date(createdAt);
    const ms = date.getTime();
    // Also rules out NaN; PostgreSQL refuses years <= 0 and JavaScript's extremes (-271821).
    if (ms >= MIN_TOKEN_MS && ms <= MAX_TOKEN_MS) return { createdAt: date, id: id.toLowerCase() };
  }, field);
}

/**
 * The page token of GetTaskHistory: where the next page starts (after this transition).
 *
 * @example
 * ```ts
 * encodeHistoryToken(42n); // "aDo0Mg"
 * ```
 */
export function encodeHistoryToken(afterId: bigint): string {
  return btoa(`h:${afterId}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes a token made by {@link encodeHistoryToken}; empty means the first page; anything else
 * is `invalid_argument` naming page_token.
 *
 * @example
 * ```ts
 * decodeHistoryToken(encodeHistoryToken(42n)); // 42n
 * ```
 */
export function decodeHistoryToken(token: string, field = "page_token"): bigint | undefined {
  if (token === "") return undefined;
  try {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(token)) throw new Error("not base64url");
    const match = /^h:([1-9][0-9]{0,18})$/.exec(
      atob(token.replaceAll("-", "+").replaceAll("_", "/")),
    );
    if (match && BigInt(match[1]) < 2n ** 63n) return BigInt(match[1]);
  } catch { /* fall through */ }
  throw new ValidationError(
    field,
    "is not a token returned by this service; start again without one",
  );
}

/** Most characters of a submission's note, a change request or a dispute's reason. */
export const MAX_NOTE_CHARS = 2000;
/** Most characters of a submission's link. */
export const MAX_LINK_CHARS = 2000;

/**
 * A required note (a submission's, a change request's, a dispute's reason): trimmed, 1..2000
 * characters, no control characters but tab and newline.
 *
 * @example
 * ```ts
 * validateNote(" first draft ", "note"); // "first draft"
 * ```
 */
export function validateNote(note: string, field = "note"): string {
  const trimmed = note.trim();
  if (trimmed === "") throw new ValidationError(field, "must not be empty");
  rejectControlCharacters(trimmed, field);
  if ([...trimmed].length > MAX_NOTE_CHARS) {
    throw new ValidationError(field, `must be at most ${MAX_NOTE_CHARS} characters`);
  }
  return trimmed;
}

/**
 * An optional link to delivered work: empty, or an absolute http(s) URL of at most 2000
 * characters with a host and no credentials.
 *
 * @example
 * ```ts
 * validateLink("https://github.com/acme/site/pull/7"); // the same
 * validateLink(""); // ""
 * ```
 */
export function validateLink(link: string, field = "link"): string {
  const trimmed = link.trim();
  if (trimmed === "") return "";
  if ([...trimmed].length > MAX_LINK_CHARS) {
    throw new ValidationError(field, `must be at most ${MAX_LINK_CHARS} characters`);
  }
  rejectControlCharacters(trimmed, field);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ValidationError(field, "must be an absolute http:// or https:// URL");
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new ValidationError(field, "must be an absolute http:// or https:// URL");
  }
  if (url.username || url.password) {
    throw new ValidationError(field, "must not carry a user name or password");
  }
  return trimmed;
}

/**
 * A split's developer share in basis points: an integer 1..9999 (0 and 10000 are not splits:
 * use refund or approve).
 *
 * @example
 * ```ts
 * validateShareBps(5000); // 5000
 * ```
 */
export function validateShareBps(bps: number, field = "developer_share_bps"): number {
  if (!Number.isInteger(bps) || bps < 1 || bps > 9999) {
    throw new ValidationError(
      field,
      "must be from 1 to 9999 basis points for a split (refund or approve for all or nothing)",
    );
  }
  return bps;
}
