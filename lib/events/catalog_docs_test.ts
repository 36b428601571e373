/**
 * The docs' event tables agree with the catalog: docs/operations.md holds the catalog's table as
 * generated, every event table of a service's README lists that service's events with the
 * catalog's message, and README.md names every subject. No servers.
 */
import assert from "node:assert/strict";
import { EVENT_TYPES, EVENTS, eventTypeOf } from "./catalog.ts";
import { docMessage, docSubject, eventTableMarkdown } from "./catalog_docs.ts";

const root = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

/** Every Markdown table whose first column is `subject`, as rows of cells. */
function subjectTables(markdown: string): string[][][] {
  const tables: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of markdown.split("\n")) {
    if (!line.startsWith("|")) {
      current = undefined;
      continue;
    }
    const cells = line.slice(1, -1).split("|").map((c) => c.trim());
    if (!current) {
      if (cells[0] !== "subject") continue;
      current = [];
      tables.push(current);
    } else if (!/^-+$/.test(cells[0])) current.push(cells);
  }
  return tables;
}

const unquote = (cell: string) => cell.replace(/`/g, "").replace(/\s*\(.*\)$/, "");

Deno.test("docs/operations.md holds the catalog's table of events", () => {
  assert.ok(
    read("docs/operations.md").includes(eventTableMarkdown()),
    "docs/operations.md: the event table differs from the catalog; paste eventTableMarkdown() " +
      "(lib/events/catalog_docs.ts) there",
  );
});

for (
  const [readme, producer] of [
    ["services/tasks/README.md", "tasks"],
    ["services/users/README.md", "users"],
    ["services/orchestrator/README.md", "orchestrator"],
  ] as const
) {
  Deno.test(`${readme}: its event table lists the service's events as the catalog does`, () => {
    const tables = subjectTables(read(readme));
    assert.ok(tables.length > 0, `${readme} has no event table`);
    const listed = new Set<string>();
    for (const row of tables.flat()) {
      const subject = unquote(row[0]).replace("notify.<user_id>.<kind>", "notify.*.*");
      const type = eventTypeOf(subject);
      assert.ok(type, `${readme}: ${row[0]} is not in the catalog`);
      assert.equal(unquote(row[1]), docMessage(type), `${readme}: the message of ${row[0]}`);
      listed.add(type.subject);
    }
    const own = EVENT_TYPES.filter((t) =>
      t !== EVENTS.notification && [t.producer].flat().includes(producer)
    );
    for (const type of own) assert.ok(listed.has(type.subject), `${readme} misses ${type.subject}`);
  });
}

Deno.test("README.md names every event of the catalog", () => {
  const readme = read("README.md");
  for (const type of EVENT_TYPES) {
    assert.ok(readme.includes("`" + docSubject(type) + "`"), `README.md misses ${type.subject}`);
  }
});
