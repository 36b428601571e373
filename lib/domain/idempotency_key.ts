/**
 * Idempotency keys of the calls that create something: the client makes one per logical create
 * (a UUID) and sends it again on every retry of that create.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/**
 * An optional idempotency key from a request field or, when the field is empty, the
 * `Idempotency-Key` header: undefined when neither is set; otherwise 1 to 255 printable ASCII
 * characters. Both set and different: {@link ValidationError}.
 *
 * @example
 * ```ts ignore
 * validateIdempotencyKey(req.idempotencyKey, ctx.requestHeader.get("idempotency-key"));
 * ```
 */
export function validateIdempotencyKey(
  field: string,
  header: string | null = null,
  fieldName = "idempotency_key",
): string | undefined {
  if (field !== "" && header !== null && header !== field) {
    throw new ValidationError(fieldName, "differs from the Idempotency-Key header; send one key");
  }
  const key = field !== "" ? field : header ?? "";
  if (key === "") return undefined;
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError(
      fieldName,
      "must be 1 to 255 printable ASCII characters without spaces (a UUID, say), or empty",
    );
  }
  return key;
}
