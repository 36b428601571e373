/**
 * Emergency contacts: the shipped file parses, bad files say what is wrong (and never throw), and
 * `deno task emergency` shows them with and without a command.
 */
import assert from "node:assert/strict";
import { loadContacts, parseContacts, renderContacts } from "./contacts/contacts.ts";
import { emergencyCli } from "./emergency.ts";
import { captureOutput } from "./shared/output.ts";

Deno.test("the shipped contacts are the manual's four", async () => {
  const list = await loadContacts();
  assert.equal(list.problem, undefined);
  assert.deepEqual(
    list.contacts.map((c) => [c.role, c.phone ?? c.email]),
    [
      ["On-call Engineer", "+1-555-0123"],
      ["Database Admin", "+1-555-0124"],
      ["Security Team", "security@company.com"],
      ["Management", "management@company.com"],
    ],
  );
});

Deno.test("a broken contacts file names what is wrong", async () => {
  assert.throws(() => parseContacts("people: []"), /top-level "contacts:" list/);
  assert.throws(() => parseContacts("contacts: []"), /empty/);
  assert.throws(
    () => parseContacts("contacts:\n  - role: DBA\n"),
    /contact 1 \(DBA\): give a phone/,
  );
  assert.throws(
    () => parseContacts("contacts:\n  - role: DBA\n    pager: x\n"),
    /unknown field "pager"/,
  );
  const missing = await loadContacts("/nonexistent/contacts.yaml");
  assert.match(missing.problem!, /cannot read it/);
  assert.match(renderContacts(missing), /none shown: \/nonexistent\/contacts\.yaml/);
});

Deno.test("deno task emergency shows the contacts, with or without a command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/contacts.yaml`;
    await Deno.writeTextFile(
      file,
      "contacts:\n  - role: Night shift\n    chat: '#fp-incidents'\n    when: always\n",
    );
    const env = { CONTACTS_FILE: file };
    const bare = captureOutput();
    assert.equal(await emergencyCli([], bare.output, env), 0);
    assert.match(
      bare.text(),
      /Emergency contacts:\n {2}Night shift {2}#fp-incidents {2}\(always\)/,
    );
    assert.match(bare.text(), /Commands:\n {2}contacts/);

    const json = captureOutput();
    assert.equal(await emergencyCli(["contacts", "--json"], json.output, env), 0);
    assert.deepEqual(JSON.parse(json.stdout.join("")).contacts, [
      { role: "Night shift", chat: "#fp-incidents", when: "always" },
    ]);

    const broken = captureOutput();
    assert.equal(
      await emergencyCli(["contacts"], broken.output, { CONTACTS_FILE: `${dir}/none.yaml` }),
      1,
    );
    assert.match(broken.text(), /none shown/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
