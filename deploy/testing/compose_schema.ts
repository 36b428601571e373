/**
 * Validation of a compose file against the Compose Specification's JSON Schema (draft-07),
 * kept in the shared folder beside the repository.
 *
 * @module
 */
import { Ajv, type ErrorObject } from "ajv";
import formats from "ajv-formats";
import { readRequired, SHARED_DIR } from "./paths.ts";

/** Checks a parsed compose document; returns the schema errors, empty when valid. */
export type ComposeValidator = (compose: unknown) => string[];

/**
 * Loads `schemas/compose-spec.json` from the shared folder and compiles it. Fails with a clear
 * message when the shared folder is not checked out next to the repository.
 *
 * @example
 * ```ts
 * const validate = await loadComposeValidator();
 * validate({ services: {} }); // []
 * ```
 */
export async function loadComposeValidator(): Promise<ComposeValidator> {
  const file = new URL("schemas/compose-spec.json", SHARED_DIR);
  const schema = JSON.parse(
    await readRequired(
      file,
      "the Compose JSON Schema; check out the shared folder at ../shared beside the repository",
    ),
  );
  // The file names draft-07 by its https URL, which ajv (draft-07 by default) does not know.
  if (!String(schema.$schema ?? "").includes("draft-07")) {
    throw new Error(`${file.pathname}: expected a draft-07 schema, got ${schema.$schema}`);
  }
  delete schema.$schema;
  // strict: false because the schema uses annotations ajv does not know, such as `deprecated`.
  const ajv = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: its function is the default export of the module object.
  formats.default(ajv);
  const check = ajv.compile(schema);
  return (compose) =>
    check(compose)
      ? []
      : (check.errors ?? []).map((e: ErrorObject) =>
        `${e.instancePath || "/"} ${e.message ?? e.keyword}`
      );
}
