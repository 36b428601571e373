/**
 * The wire form of a stored task (`platform.tasks.v1.Task`), for responses and notifications.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApprovalMode,
  type Delivery,
  DeliverySchema,
  DisputeResolution,
  type Task,
  TaskSchema,
} from "@platform/proto/tasks/v1";
import { statusToProto } from "./task_events.ts";
import type { TaskRow } from "./task_store.ts";

/**
 * The Task message of a row. `browse` leaves out the assignee (what a developer browsing OPEN
 * tasks may see, lib/auth/task_visibility.ts).
 *
 * @example
 * ```ts
 * const message = toTaskMessage(row);
 * ```
 */
export function toTaskMessage(row: TaskRow, view: "full" | "browse" = "full"): Task {
  return create(TaskSchema, {
    id: row.id,
    clientId: row.client_id,
    title: row.title,
    description: row.description,
    requiredSkills: row.required_skills,
    budget: { currency: row.currency, amountMinor: BigInt(row.budget_minor) },
    deadline: row.deadline ? timestampFromDate(row.deadline) : undefined,
    status: statusToProto(row.status),
    assignedDeveloperId: view === "full" ? row.assigned_developer_id ?? "" : "",
    createdAt: timestampFromDate(row.created_at),
    updatedAt: timestampFromDate(row.updated_at),
    termsVersion: row.terms_version ?? 1,
    requiresApproval: row.requires_approval ?? false,
    delivery: view === "full" ? deliveryOf(row) : undefined,
  });
}

const approvalModes = {
  MANUAL: ApprovalMode.MANUAL,
  AUTO: ApprovalMode.AUTO,
  DISPUTE: ApprovalMode.DISPUTE,
} as const;

const resolutions = {
  APPROVE: DisputeResolution.APPROVE,
  REFUND: DisputeResolution.REFUND,
  SPLIT: DisputeResolution.SPLIT,
} as const;

/** The Delivery of a task once work was submitted; undefined before. */
function deliveryOf(row: TaskRow): Delivery | undefined {
  if (!row.submissions) return undefined;
  return create(DeliverySchema, {
    note: row.submission_note,
    link: row.submission_link,
    submittedAt: row.submitted_at ? timestampFromDate(row.submitted_at) : undefined,
    submissions: row.submissions,
    changeRequest: row.change_request,
    disputedBy: row.disputed_by,
    disputeReason: row.dispute_reason,
    resolution: row.dispute_resolution
      ? resolutions[row.dispute_resolution]
      : DisputeResolution.UNSPECIFIED,
    developerShareBps: row.developer_share_bps ?? 0,
    approvalMode: row.approval_mode ? approvalModes[row.approval_mode] : ApprovalMode.UNSPECIFIED,
  });
}
