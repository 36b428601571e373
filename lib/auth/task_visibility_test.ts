/** The one visibility rule of tasks, as a table. No servers. */
import assert from "node:assert/strict";
import type { Principal } from "./principal.ts";
import { seesWhole, type TaskAudience, taskVisibility } from "./task_visibility.ts";

const client = "11111111-1111-4111-8111-111111111111";
const otherClient = "22222222-2222-4222-8222-222222222222";
const assignee = "33333333-3333-4333-8333-333333333333";
const developer = "44444444-4444-4444-8444-444444444444";

const as = (role: Principal["role"], subject: string): Principal => ({ role, subject });
const task = (fields: Partial<TaskAudience> = {}): TaskAudience => ({
  clientId: client,
  assignedDeveloperId: null,
  open: true,
  holdsProposal: false,
  ...fields,
});

Deno.test("task visibility: who sees what", () => {
  const cases: Array<[string, Principal, TaskAudience, string]> = [
    ["owner, open", as("client", client), task(), "full"],
    ["owner, closed", as("client", client), task({ open: false }), "full"],
    ["owner, upper-case id", as("client", client.toUpperCase()), task(), "full"],
    ["another client, open", as("client", otherClient), task(), "none"],
    ["another client, closed", as("client", otherClient), task({ open: false }), "none"],
    ["admin", as("admin", otherClient), task({ open: false }), "full"],
    ["service", as("service", "service:orchestrator"), task({ open: false }), "full"],
    ["developer browsing an open task", as("developer", developer), task(), "browse"],
    ["developer, closed task", as("developer", developer), task({ open: false }), "none"],
    [
      "assigned developer",
      as("developer", assignee),
      task({ open: false, assignedDeveloperId: assignee }),
      "full",
    ],
    [
      "developer holding a proposal",
      as("developer", developer),
      task({ holdsProposal: true }),
      "full",
    ],
    [
      "developer holding a proposal, task assigned meanwhile",
      as("developer", developer),
      task({ open: false, holdsProposal: true, assignedDeveloperId: assignee }),
      "full",
    ],
    ["unknown owner (tombstone)", as("client", client), task({ clientId: null }), "none"],
  ];
  for (const [name, me, audience, expected] of cases) {
    assert.equal(taskVisibility(me, audience), expected, name);
    assert.equal(seesWhole(me, audience), expected === "full", name);
  }
});
