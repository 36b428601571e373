/**
 * Handles the User Service's presence events (stream PRESENCE), so that matching follows who is
 * there instead of a timer:
 *
 * - `presence.offline` / `presence.expired`: the developer is recorded offline (never proposed to
 *   again until online), their PENDING proposals are withdrawn and those tasks matched again;
 * - `presence.online`: recorded online, and the waiting tasks they can take (their skills cover
 *   enough of the required ones) are woken and matched at once;
 * - `presence.skills_changed`: the waiting tasks their new skills open up are woken likewise.
 *
 * A wake is bounded: at most as many tasks as the developer may still be proposed within the
 * fairness window (`FAIRNESS_MAX_PROPOSALS`), and at most `PRESENCE_REMATCH_LIMIT`, oldest first;
 * so a developer coming online costs a handful of attempts however many tasks wait. Late events
 * (an offline older than the last online) change nothing. Malformed events are terminated by the
 * consumer.
 *
 * @module
 */
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { type ConsumedEvent, dispatchStream, UnprocessableEventError } from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { Counter } from "prom-client";
import type { ProposalCommands } from "./proposal_commands.ts";
import { isUuid } from "@platform/lib/domain";

/** The re-matching policy of presence events. */
export interface PresenceRematchSettings {
  /** A candidate must offer at least this share of the required skills (as the matcher). */
  minSkillCoverage: number;
  /** Proposals a developer may get per fairness window (as the matcher). */
  fairnessMaxProposals: number;
  fairnessWindowSeconds: number;
  /** Most tasks woken by one event. */
  limit: number;
  /** Batches of tasks an offline developer's withdrawals take at most per event. */
  offlineBatches?: number;
}

/**
 * The handler for the durable consumer of `presence.>`.
 *
 * @example
 * ```ts
 * const handler = presenceHandler(commands, settings, logger, wakeups);
 * ```
 */
export function presenceHandler(
  commands: ProposalCommands,
  settings: PresenceRematchSettings,
  logger: Logger,
  wakeups?: Counter<"cause">,
): (event: ConsumedEvent) => Promise<void> {
  const capacity = async (developerId: string) => {
    const stats = await commands.developerStats([developerId], settings.fairnessWindowSeconds);
    const recent = stats.get(developerId)?.recent ?? 0;
    return Math.max(0, Math.min(settings.limit, settings.fairnessMaxProposals - recent));
  };

  const wake = async (
    developerId: string,
    skills: string[],
    wanted: string[],
    cause: "presence_online" | "skills_added",
  ) => {
    const limit = await capacity(developerId);
    const woken = await commands.wakeWaitingTasks({
      developerId,
      skills,
      wanted,
      minCoverage: settings.minSkillCoverage,
      limit,
    });
    if (woken.length > 0) {
      wakeups?.inc({ cause }, woken.length);
      logger.info("waiting tasks woken for a developer", {
        developer_id: developerId,
        cause,
        tasks: woken.length,
      });
    }
  };

  const offline = async (gone: { userId: string; occurredAt?: Timestamp }) => {
    const developerId = requireUuid(gone.userId);
    const at = gone.occurredAt ? timestampDate(gone.occurredAt) : new Date();
    if (!await commands.recordPresence(developerId, false, at)) return; // a late event
    let withdrawn = 0;
    let reopened = 0;
    // Tasks another transaction holds right now are skipped here and taken by the sweeper's
    // next round (its safety net covers every developer recorded offline).
    for (let batch = 0; batch < (settings.offlineBatches ?? 10); batch++) {
      const outcome = await commands.withdrawOfflineProposals(100, { developerId });
      withdrawn += outcome.withdrawn;
      reopened += outcome.reopened;
      if (outcome.withdrawn === 0) break;
    }
    if (reopened > 0) wakeups?.inc({ cause: "developer_offline" }, reopened);
    if (withdrawn > 0) {
      logger.info("developer offline; pending proposals withdrawn", {
        developer_id: developerId,
        withdrawn,
        tasks_rematched: reopened,
      });
    }
  };

  // A subject the catalog does not know is an unknown event: counted and set aside.
  return dispatchStream("PRESENCE", {
    presenceOnline: async (online) => {
      const developerId = requireUuid(online.userId);
      const at = online.occurredAt ? timestampDate(online.occurredAt) : new Date();
      if (!await commands.recordPresence(developerId, true, at)) return; // a late event
      const skills = normalize(online.skillTags);
      await wake(developerId, skills, skills, "presence_online");
    },
    presenceSkillsChanged: async (changed) => {
      const developerId = requireUuid(changed.userId);
      const added = normalize(changed.addedSkills);
      if (added.length === 0) return;
      await wake(developerId, normalize(changed.skillTags), added, "skills_added");
    },
    presenceOffline: offline,
    presenceExpired: offline,
  });
}

function requireUuid(value: string): string {
  if (!isUuid(value)) {
    throw new UnprocessableEventError(
      `user_id must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`,
    );
  }
  return value.toLowerCase();
}

function normalize(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()))].filter((t) => t !== "");
}
