/**
 * Emergency contacts: the file an operator edits (`ops/contacts.yaml`, or `CONTACTS_FILE`), read
 * and checked here, and rendered for `deno task emergency` and `deno task doctor`. Reading never
 * throws: during an incident a broken contacts file is reported beside what it could not show.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { errorMessage } from "../shared/errors.ts";

/** One person or team to call. */
export interface Contact {
  /** Who this is ("On-call Engineer"). */
  role: string;
  /** A phone number to call. */
  phone?: string;
  /** An email address. */
  email?: string;
  /** A chat channel or pager handle. */
  chat?: string;
  /** When to call them. */
  when?: string;
}

/** The contacts read from a file, or why they could not be. */
export interface ContactList {
  /** The file they were read from. */
  source: string;
  /** The contacts, in the file's order (empty when the file could not be read). */
  contacts: Contact[];
  /** What is wrong with the file, when something is. */
  problem?: string;
}

/** The shipped contacts file, next to the ops programs. */
export const DEFAULT_CONTACTS_FILE = new URL("../contacts.yaml", import.meta.url);

const FIELDS = ["role", "phone", "email", "chat", "when"] as const;

/**
 * Parses a contacts file's text; throws an Error naming the entry and field that is wrong.
 *
 * @example
 * ```ts
 * parseContacts("contacts:\n  - role: On-call\n    phone: '+1-555-0123'\n");
 * ```
 */
export function parseContacts(text: string): Contact[] {
  const doc = parseYaml(text) as unknown;
  const list = (doc as { contacts?: unknown } | null)?.contacts;
  if (!Array.isArray(list)) throw new Error('expected a top-level "contacts:" list');
  if (list.length === 0) throw new Error('"contacts:" is empty: add at least the on-call engineer');
  return list.map((entry, i) => {
    const where = `contact ${i + 1}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new Error(`${where}: expected a mapping with role and phone, email or chat`);
    }
    const contact: Record<string, string> = {};
    for (const [key, value] of Object.entries(entry)) {
      if (!(FIELDS as readonly string[]).includes(key)) {
        throw new Error(`${where}: unknown field "${key}" (fields: ${FIELDS.join(", ")})`);
      }
      if (typeof value !== "string" && typeof value !== "number") {
        throw new Error(`${where}: "${key}" must be text (quote phone numbers)`);
      }
      contact[key] = String(value).trim();
    }
    if (!contact.role) throw new Error(`${where}: "role" is missing`);
    if (!contact.phone && !contact.email && !contact.chat) {
      throw new Error(`${where} (${contact.role}): give a phone, email or chat`);
    }
    return contact as unknown as Contact;
  });
}

/**
 * Reads the contacts from `CONTACTS_FILE` (else the shipped `ops/contacts.yaml`); never throws.
 *
 * @example
 * ```ts
 * const list = await loadContacts(Deno.env.get("CONTACTS_FILE"));
 * output.line(renderContacts(list));
 * ```
 */
export async function loadContacts(file?: string): Promise<ContactList> {
  const source = file && file.trim() !== "" ? file : DEFAULT_CONTACTS_FILE.pathname;
  let text: string;
  try {
    text = await Deno.readTextFile(source);
  } catch (error) {
    return { source, contacts: [], problem: `cannot read it: ${errorMessage(error)}` };
  }
  try {
    return { source, contacts: parseContacts(text) };
  } catch (error) {
    return { source, contacts: [], problem: errorMessage(error) };
  }
}

/**
 * The contacts as text for an operator: one line each, then where they come from.
 *
 * @example
 * ```ts
 * renderContacts({ source: "ops/contacts.yaml", contacts: [{ role: "On-call", phone: "+1-555-0123" }] });
 * // "Emergency contacts:\n  On-call  +1-555-0123\n  (from ops/contacts.yaml)"
 * ```
 */
export function renderContacts(list: ContactList): string {
  const lines = ["Emergency contacts:"];
  const width = Math.max(0, ...list.contacts.map((c) => c.role.length));
  for (const c of list.contacts) {
    const reach = [c.phone, c.email, c.chat].filter(Boolean).join(", ");
    lines.push(`  ${c.role.padEnd(width)}  ${reach}${c.when ? `  (${c.when})` : ""}`);
  }
  if (list.problem) {
    lines.push(`  none shown: ${list.source}: ${list.problem}`);
    lines.push("  fix the file, or set CONTACTS_FILE to the right one");
  } else {
    lines.push(`  (from ${list.source}; edit it or set CONTACTS_FILE)`);
  }
  return lines.join("\n");
}
