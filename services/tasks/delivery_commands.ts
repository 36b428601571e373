/**
 * Delivery and approval (issue 20), the command layer: each step locks the task, checks who acts
 * (on the locked row), applies the state machine (domain/task_state_machine.ts, with the task's
 * approval mode), and writes the task, its history row, `task.status_changed`, the step's own
 * event and the other party's notification in one transaction. Business metrics count a step
 * once it committed.
 *
 * Every step has an `...In(tx, ...)` form that runs in a transaction the caller holds, so a later
 * part (the escrow ledger's posting on approval, refund or split) joins the same commit.
 *
 * @module
 */
import type { Counter } from "prom-client";
import type { TransactionSql } from "@platform/lib/db";
import { NotFoundError } from "@platform/lib/errors";
import type { OutboxEvent } from "@platform/lib/events";
import { type DeliveryAction, nextState, resolutionAction } from "./domain/task_state_machine.ts";
import { EXPIRY_ACTOR, type TaskCommands } from "./task_commands.ts";
import {
  type DeliveryStep,
  type DeliveryStepDetail,
  deliveryStepEvent,
  statusChangedEvent,
} from "./task_events.ts";
import { transitionNotifications } from "./task_notifications.ts";
import type { DeliveryPatch, DisputeResolutionName, TaskRow } from "./task_store.ts";

/** The business metrics of delivery and approval (see the Task Service README). */
export interface DeliveryMetrics {
  /** task_submissions_total */
  submissions: Counter;
  /** task_approvals_total{mode="manual|auto|dispute"} */
  approvals: Counter<"mode">;
  /** task_change_requests_total */
  changeRequests: Counter;
  /** task_withdrawals_total */
  withdrawals: Counter;
  /** task_disputes_opened_total */
  disputesOpened: Counter;
  /** task_disputes_resolved_total{resolution="approve|refund|split"} */
  disputesResolved: Counter<"resolution">;
}

/** Who acts on which task, and the check of whether they may (run on the locked row). */
export interface StepRequest {
  taskId: string;
  actorId: string;
  /** Throws when the caller may not act on this task. */
  authorize: (task: TaskRow) => void;
}

/** The history reason of an automatic approval. */
export const AUTO_APPROVAL_REASON = "approved automatically: no answer within AUTO_APPROVE_AFTER";

type Tx = TransactionSql;

/**
 * The delivery steps over the Task Service's store and outbox.
 *
 * @example
 * ```ts
 * const delivery = new DeliveryCommands(commands, metrics);
 * await delivery.submit({ taskId, actorId, authorize }, { note: "v1", link: "" });
 * ```
 */
export class DeliveryCommands {
  constructor(
    private readonly commands: TaskCommands,
    private readonly metrics?: DeliveryMetrics,
  ) {}

  /** IN_PROGRESS -> SUBMITTED, with the work's note and link. */
  async submit(request: StepRequest, work: { note: string; link: string }): Promise<TaskRow> {
    const row = await this.tx((tx) =>
      this.step(tx, request, "submit", "workSubmitted", work.note, { submission: work }, {
        link: work.link,
      })
    );
    this.metrics?.submissions.inc();
    return row;
  }

  /** SUBMITTED -> COMPLETED, approved by the client (or an admin). */
  async approve(request: StepRequest): Promise<TaskRow> {
    const row = await this.tx((tx) => this.approveIn(tx, request));
    this.metrics?.approvals.inc({ mode: "manual" });
    return row;
  }

  /** {@link approve} in the caller's transaction (where a ledger posting can join it). */
  approveIn(tx: Tx, request: StepRequest): Promise<TaskRow> {
    return this.step(tx, request, "approve", "workApproved", "approved", {
      approvalMode: "MANUAL",
    }, { approvalMode: "MANUAL" });
  }

  /** SUBMITTED -> IN_PROGRESS, with what to change. */
  async requestChanges(request: StepRequest, note: string): Promise<TaskRow> {
    const row = await this.tx((tx) =>
      this.step(tx, request, "request_changes", "changesRequested", note, { changeRequest: note })
    );
    this.metrics?.changeRequests.inc();
    return row;
  }

  /** ASSIGNED -> OPEN without an assignee: the developer steps back before starting. */
  async withdraw(request: StepRequest, reason: string): Promise<TaskRow> {
    const row = await this.tx((tx) =>
      this.step(tx, request, "withdraw", "developerWithdrew", reason, { clearAssignee: true })
    );
    this.metrics?.withdrawals.inc();
    return row;
  }

  /** SUBMITTED -> DISPUTED, with the reason. */
  async openDispute(request: StepRequest, reason: string): Promise<TaskRow> {
    const row = await this.tx((tx) =>
      this.step(tx, request, "dispute", "disputeOpened", reason, {
        dispute: { by: request.actorId, reason },
      })
    );
    this.metrics?.disputesOpened.inc();
    return row;
  }

  /** DISPUTED -> COMPLETED (approve, split) or CANCELLED (refund), by an admin. */
  async resolveDispute(
    request: StepRequest,
    decision: { resolution: DisputeResolutionName; developerShareBps: number | null; note: string },
  ): Promise<TaskRow> {
    const row = await this.tx((tx) => this.resolveDisputeIn(tx, request, decision));
    const resolution = decision.resolution.toLowerCase();
    this.metrics?.disputesResolved.inc({ resolution });
    if (decision.resolution !== "REFUND") this.metrics?.approvals.inc({ mode: "dispute" });
    return row;
  }

  /** {@link resolveDispute} in the caller's transaction. */
  resolveDisputeIn(
    tx: Tx,
    request: StepRequest,
    decision: { resolution: DisputeResolutionName; developerShareBps: number | null; note: string },
  ): Promise<TaskRow> {
    const action = resolutionAction(
      decision.resolution.toLowerCase() as "approve" | "refund" | "split",
    );
    const share = decision.resolution === "SPLIT" ? decision.developerShareBps : null;
    const approved = decision.resolution !== "REFUND";
    const reason = [
      `dispute resolved: ${decision.resolution.toLowerCase()}`,
      share !== null ? ` (${share / 100}% to the developer)` : "",
      decision.note ? `; ${decision.note}` : "",
    ].join("");
    return this.step(tx, request, action, "disputeResolved", reason, {
      resolution: { resolution: decision.resolution, developerShareBps: share },
      ...(approved ? { approvalMode: "DISPUTE" as const } : {}),
    }, {
      resolution: decision.resolution,
      developerShareBps: share,
      ...(approved ? { approvalMode: "DISPUTE" as const } : {}),
    });
  }

  /**
   * Approves at most `limit` SUBMITTED tasks whose last submission is older than `afterSeconds`,
   * in one transaction: COMPLETED (approval mode AUTO), a history row each, `task.status_changed`,
   * `task.work_approved` and the notifications. Exactly once with several replicas and against a
   * manual step at the same moment (rows taken with `FOR UPDATE SKIP LOCKED`, see
   * TaskStore.autoApproveDue). Returns how many.
   */
  async autoApproveDue(afterSeconds: number, limit: number): Promise<number> {
    const store = this.commands.store;
    const approved = await store.transaction(async (tx) => {
      const rows = await store.autoApproveDue(tx, afterSeconds, limit);
      if (rows.length === 0) return 0;
      await store.addTransitions(
        tx,
        rows.map((r) => r.id),
        "SUBMITTED",
        "COMPLETED",
        EXPIRY_ACTOR,
        AUTO_APPROVAL_REASON,
      );
      const now = new Date();
      await this.commands.outbox.write(
        tx,
        rows.flatMap((task) => [
          statusChangedEvent(task.id, "SUBMITTED", "COMPLETED", EXPIRY_ACTOR, AUTO_APPROVAL_REASON),
          deliveryStepEvent("workApproved", task, {
            developerId: task.assigned_developer_id ?? "",
            actorId: EXPIRY_ACTOR,
            note: AUTO_APPROVAL_REASON,
            approvalMode: "AUTO",
          }, now),
          ...transitionNotifications("SUBMITTED", task, EXPIRY_ACTOR, AUTO_APPROVAL_REASON),
        ]),
      );
      return rows.length;
    });
    if (approved > 0) this.metrics?.approvals.inc({ mode: "auto" }, approved);
    return approved;
  }

  private tx<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.commands.store.transaction(work);
  }

  /** One step: lock, authorise, transition, record, publish. */
  private async step(
    tx: Tx,
    request: StepRequest,
    action: DeliveryAction,
    event: DeliveryStep,
    reason: string,
    patch: DeliveryPatch,
    detail: Omit<DeliveryStepDetail, "developerId" | "actorId" | "note"> = {},
  ): Promise<TaskRow> {
    const store = this.commands.store;
    const task = await store.lock(tx, request.taskId);
    if (!task) throw new NotFoundError("task", request.taskId);
    request.authorize(task);
    const to = nextState(task.status, action, task.requires_approval);
    const updated = await store.setDelivery(tx, task.id, to, patch);
    await store.addTransition(tx, task.id, task.status, to, request.actorId, reason);
    const developerId = task.assigned_developer_id ?? "";
    const events: OutboxEvent[] = [
      statusChangedEvent(task.id, task.status, to, request.actorId, reason),
      deliveryStepEvent(event, task, {
        developerId,
        actorId: request.actorId,
        note: reason,
        ...detail,
      }),
      ...transitionNotifications(
        task.status,
        updated,
        request.actorId,
        reason,
        task.assigned_developer_id,
      ),
    ];
    await this.commands.outbox.write(tx, events);
    return updated;
  }
}
