/**
 * What protobuf JSON parsing lets through and the server must not: a string holding a lone
 * UTF-16 surrogate (`"\ud800"`, not valid Unicode, and it broke the gRPC-web error encoding), an
 * enum given by a name the schema does not know (`"TASK_STATUS_BOGUS"`), which connect-es's
 * lenient parsing drops silently, so a filter would vanish, and a field the schema does not know
 * (`{"required_skills":{"tags":["go"]}}` for `skills`), which lenient parsing also drops, so a
 * misspelt edit cleared a task's skills. A JSON client names fields by hand; binary protobuf keeps
 * the forward-compatible rule (unknown fields ignored), as its fields are numbered by generated code.
 *
 * Both request paths use it: connect-es through the `textDecoder` of each method's JSON options,
 * the unary fast path directly, so both refuse the same input with the same message.
 *
 * @module
 */
import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";

/** Thrown for JSON input that parses but must be refused; connect-es maps it to invalid_argument. */
export class JsonInputError extends Error {
  /** @example `throw new JsonInputError("status: unknown enum value \"X\"")` */
  constructor(message: string) {
    super(message);
    this.name = "JsonInputError";
  }
}

/** A text decoder for connect-es's JSON options that validates what it decodes. */
export interface ValidatingTextDecoder {
  decode(data: Uint8Array): string;
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const utf8 = new TextDecoder();

/**
 * A decoder for requests of one message type: UTF-8 decoding, then {@link checkJsonInput}.
 *
 * @example
 * ```ts ignore
 * router.rpc(method, impl, { jsonOptions: { textDecoder: validatingTextDecoder(method.input) } });
 * ```
 */
export function validatingTextDecoder(schema: DescMessage): ValidatingTextDecoder {
  const check = jsonInputCheck(schema);
  return {
    decode(data: Uint8Array): string {
      const text = utf8.decode(data);
      check(text);
      return text;
    },
  };
}

/**
 * Builds the check for JSON requests of one message type: throws {@link JsonInputError} for a
 * lone surrogate anywhere in the text, an unknown enum name in any field, or a key that names no
 * field of its message (at any depth; well-known types such as Timestamp keep their own forms).
 * Malformed JSON passes through untouched, so protobuf-es reports it with its usual message.
 *
 * @example
 * ```ts ignore
 * const check = jsonInputCheck(ListTasksRequestSchema);
 * check('{"status":"TASK_STATUS_BOGUS"}'); // throws JsonInputError
 * ```
 */
export function jsonInputCheck(schema: DescMessage): (text: string) => void {
  const walker = messageWalker(schema, new Map());
  const flat = flatFieldNames(schema);
  return (text: string) => {
    const surrogates = SURROGATE_ESCAPE.test(text);
    // The hot reads (GetUser and the like) have flat requests: a scan of the keys, no parse.
    if (!surrogates && flat !== undefined && onlyKnownKeys(text, flat)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return; // protobuf-es reports malformed JSON itself
    }
    if (surrogates) checkWellFormed(value);
    walker(value, "");
  };
}

/**
 * The JSON and proto names of a message's fields when none needs a look inside its value (no
 * message, map or enum field): then a key scan alone decides. Undefined otherwise.
 */
function flatFieldNames(schema: DescMessage): Set<string> | undefined {
  const names = new Set<string>();
  for (const field of schema.fields) {
    if (
      field.fieldKind !== "scalar" && !(field.fieldKind === "list" && field.listKind === "scalar")
    ) {
      return undefined;
    }
    names.add(field.jsonName);
    names.add(field.name);
  }
  return names;
}

/**
 * True when every object key in the JSON text is one of `keys` (a lexical scan: outside strings a
 * quote opens one, and a string followed by a colon is a key). False for anything it cannot vouch
 * for (an escaped or unknown key, an unterminated string): the full check then runs.
 */
function onlyKnownKeys(text: string, keys: Set<string>): boolean {
  const length = text.length;
  let i = 0;
  while (i < length) {
    if (text.charCodeAt(i) !== 0x22) {
      i++;
      continue;
    }
    let j = i + 1;
    let escaped = false;
    while (j < length) {
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
      } else j++;
    }
    if (j >= length) return false;
    let k = j + 1;
    while (k < length) {
      const c = text.charCodeAt(k);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      k++;
    }
    if (text.charCodeAt(k) === 0x3a && (escaped || !keys.has(text.slice(i + 1, j)))) return false;
    i = j + 1;
  }
  return true;
}

function checkWellFormed(value: unknown): void {
  if (typeof value === "string") {
    if (!value.isWellFormed()) {
      throw new JsonInputError(
        "invalid JSON: a string holds a lone UTF-16 surrogate (such as \\ud800); " +
          "send valid Unicode",
      );
    }
    return;
  }
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) checkWellFormed(item);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    checkWellFormed(key);
    checkWellFormed(item);
  }
}

type Walker = (json: unknown, path: string) => void;
type Seen = Map<string, Walker | "pending">;

/**
 * A function that throws on a key naming no field, or an unknown enum name, anywhere in a JSON
 * value of this message type.
 */
function messageWalker(schema: DescMessage, seen: Seen): Walker {
  const known = seen.get(schema.typeName);
  if (known === "pending") return (json, path) => (seen.get(schema.typeName) as Walker)(json, path);
  if (known) return known;
  // Well-known types have their own JSON forms (a Timestamp is a string, a Struct any object).
  if (schema.typeName.startsWith("google.protobuf.")) return () => {};
  seen.set(schema.typeName, "pending");
  const fields = new Map<string, Walker | undefined>();
  for (const field of schema.fields) {
    const walk = fieldWalker(field, seen);
    fields.set(field.jsonName, walk);
    fields.set(field.name, walk);
  }
  const names = schema.fields.map((f) => f.name).join(", ");
  const walker: Walker = (json, path) => {
    if (json === null || typeof json !== "object" || Array.isArray(json)) return;
    for (const [key, value] of Object.entries(json)) {
      const at = path === "" ? key : `${path}.${key}`;
      if (!fields.has(key)) {
        throw new JsonInputError(
          `${at}: unknown field ${JSON.stringify(key)} of ${schema.name}; ` +
            (names === "" ? "it has no fields" : `its fields are ${names}`),
        );
      }
      fields.get(key)?.(value, at);
    }
  };
  seen.set(schema.typeName, walker);
  return walker;
}

function fieldWalker(field: DescField, seen: Seen): Walker | undefined {
  switch (field.fieldKind) {
    case "enum":
      return enumValueCheck(field.enum, field.name);
    case "message":
      return messageWalker(field.message, seen);
    case "list": {
      const item = field.listKind === "enum"
        ? enumValueCheck(field.enum, field.name)
        : field.listKind === "message"
        ? messageWalker(field.message, seen)
        : undefined;
      if (!item) return undefined;
      return (json, path) => {
        if (Array.isArray(json)) json.forEach((v, i) => item(v, `${path}[${i}]`));
      };
    }
    case "map": {
      const item = field.mapKind === "enum"
        ? enumValueCheck(field.enum, field.name)
        : field.mapKind === "message"
        ? messageWalker(field.message, seen)
        : undefined;
      if (!item) return undefined;
      return (json, path) => {
        if (json === null || typeof json !== "object" || Array.isArray(json)) return;
        for (const [key, value] of Object.entries(json)) item(value, `${path}[${key}]`);
      };
    }
    default:
      return undefined;
  }
}

function enumValueCheck(desc: DescEnum, _fieldName: string): Walker | undefined {
  if (desc.typeName === "google.protobuf.NullValue") return undefined;
  const names = new Set<string>();
  for (const value of desc.values) {
    names.add(value.name);
    const jsonName = (value as { jsonName?: string }).jsonName;
    if (jsonName) names.add(jsonName);
  }
  const expected = desc.values.map((v) => v.name).join(", ");
  return (json, path) => {
    if (typeof json === "string" && !names.has(json)) {
      throw new JsonInputError(
        `${path}: unknown ${desc.name} value ${JSON.stringify(json)}; expected one of ${expected}`,
      );
    }
  };
}
