/**
 * The UserService RPCs: translate requests into domain calls and records into responses, and
 * check who may do what. No SQL here; that is the store's.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  isPrivileged,
  type Principal,
  requirePrincipal,
  requireRole,
  type TokenService,
  verifyPassword,
} from "@platform/lib/auth";
import {
  isUuid,
  normalizeSkillTags,
  validateIdempotencyKey,
  validatePageSize,
} from "@platform/lib/domain";
import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  ValidationError,
} from "@platform/lib/errors";
import type { TrustedProxies } from "@platform/lib/config";
import { clientAddress } from "@platform/lib/server";
import type { Gauge } from "prom-client";
import { Role, SkillMatch, type UserService } from "@platform/proto/users/v1";
import { decodePageToken, encodePageToken } from "./domain/page_token.ts";
import { validateRankRequest } from "./domain/rank_request.ts";
import {
  normalizeEmail,
  validateBio,
  validateDisplayName,
  validateHourlyRate,
  validatePassword,
} from "./domain/user_validation.ts";
import type { AuthThrottle } from "./auth_throttle.ts";
import type { PresenceCommands } from "./presence_commands.ts";
import type { RegistrationCommands } from "./registration_commands.ts";
import type { ProfileCache } from "./profile_cache.ts";
import type { UserRole } from "./user_record.ts";
import { toProto } from "./user_proto.ts";
import type { ProfilePatch, TagMatch, UserStore } from "./user_store.ts";

/** What the handlers need. */
export interface UserHandlerDeps {
  store: UserStore;
  /** Presence and skill changes with their events (user_outbox). */
  presence: PresenceCommands;
  profiles: ProfileCache;
  tokens: TokenService;
  /** Account creation, with idempotency keys. */
  registrations: RegistrationCommands;
  /** Failed-login and registration limits. */
  throttle: AuthThrottle;
  /** Whose `X-Forwarded-For` names the client. */
  trustedProxies: TrustedProxies;
  presenceTtlSeconds: number;
  onlineGauge: Gauge;
}

const MAX_ONLINE_LIST = 1000;

/** Procedures callable without a token. */
export const PUBLIC_PROCEDURES = [
  "platform.users.v1.UserService/Register",
  "platform.users.v1.UserService/Login",
];

/**
 * Builds the UserService implementation.
 *
 * @example
 * ```ts
 * router.service(UserService, userHandlers({ store, presence, profiles, tokens, presenceTtlSeconds: 90, onlineGauge }));
 * ```
 */
export function userHandlers(deps: UserHandlerDeps): Partial<ServiceImpl<typeof UserService>> {
  const { store, profiles, tokens, presence } = deps;

  const refreshOnlineGauge = async () => deps.onlineGauge.set(await store.countOnline());

  return {
    async register(req, ctx) {
      await deps.throttle.register(clientAddress(ctx, deps.trustedProxies));
      const email = normalizeEmail(req.email);
      validatePassword(req.password);
      const role = registrableRole(req.role);
      const displayName = validateDisplayName(req.displayName);
      const key = validateIdempotencyKey(
        req.idempotencyKey,
        ctx.requestHeader.get("idempotency-key"),
      );
      const user = await deps.registrations.register(
        { email, password: req.password, role, displayName },
        hashPassword,
        key,
      );
      return { user: toProto(user, true) };
    },

    async login(req, ctx) {
      const email = req.email.trim().toLowerCase();
      const address = clientAddress(ctx, deps.trustedProxies);
      // Refused before any lookup or hash: the same answer and time for every email.
      await deps.throttle.beforeLogin(email, address);
      const found = email === "" ? undefined : await store.findCredentials(email);
      // Hash even for an unknown email, so timing does not tell which emails exist.
      const ok = await verifyPassword(req.password, found?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!found || !ok) {
        await deps.throttle.loginFailed(email, address);
        throw new UnauthenticatedError("wrong email or password");
      }
      await deps.throttle.loginSucceeded(email, address);
      const { token, expiresAt } = await tokens.issue({
        subject: found.user.id,
        role: found.user.role,
      });
      return {
        accessToken: token,
        expiresAt: timestampFromDate(expiresAt),
        user: toProto(found.user, true),
      };
    },

    async getUser(req, ctx) {
      const me = requirePrincipal(ctx);
      const id = userId(req.userId || me.subject, "user_id");
      const profile = await profiles.get(id);
      if (!profile) throw new NotFoundError("user", id);
      return profile.getUserResponse(canSeePrivate(me, id));
    },

    async getPublicProfile(req, ctx) {
      requirePrincipal(ctx);
      const id = userId(req.userId, "user_id");
      const profile = await profiles.get(id);
      if (!profile) throw new NotFoundError("user", id);
      return profile.publicProfileResponse();
    },

    async updateProfile(req, ctx) {
      const me = requirePrincipal(ctx);
      const id = userId(req.userId || me.subject, "user_id");
      if (id !== me.subject && me.role !== "admin") {
        throw new PermissionDeniedError("you can only change your own profile");
      }
      const patch: ProfilePatch = {};
      if (req.displayName !== undefined) patch.displayName = validateDisplayName(req.displayName);
      if (req.bio !== undefined) patch.bio = validateBio(req.bio);
      if (req.skillTags !== undefined) patch.skillTags = normalizeSkillTags(req.skillTags.tags);
      if (req.hourlyRate !== undefined) patch.hourlyRate = validateHourlyRate(req.hourlyRate);
      const user = await presence.updateProfile(id, patch);
      if (!user) throw new NotFoundError("user", id);
      await profiles.invalidate(id);
      return { user: toProto(user, true) };
    },

    async goOnline(_req, ctx) {
      const me = requireRole(ctx, "developer");
      const result = await presence.goOnline(me.subject);
      if (!result) throw new NotFoundError("developer", me.subject);
      if (result.changed) {
        await profiles.invalidate(me.subject);
        await refreshOnlineGauge();
      }
      return { expiresAt: timestampFromDate(result.until) };
    },

    async heartbeat(_req, ctx) {
      const me = requireRole(ctx, "developer");
      const until = await store.heartbeat(me.subject, deps.presenceTtlSeconds);
      if (!until) {
        throw new FailedPreconditionError(
          "you are offline (no heartbeat within the presence TTL); call GoOnline first",
        );
      }
      return { expiresAt: timestampFromDate(until) };
    },

    async goOffline(_req, ctx) {
      const me = requireRole(ctx, "developer");
      if (await presence.goOffline(me.subject)) {
        await profiles.invalidate(me.subject);
        await refreshOnlineGauge();
      }
      return {};
    },

    async *listOnlineDevelopers(req, ctx) {
      const me = requirePrincipal(ctx);
      const tags = normalizeSkillTags(req.skillTags);
      if (req.limit < 0 || req.limit > MAX_ONLINE_LIST) {
        throw new ValidationError(
          "limit",
          `must be from 1 to ${MAX_ONLINE_LIST} (0 means ${MAX_ONLINE_LIST})`,
        );
      }
      const developers = await store.listOnline(
        tags,
        tagMatch(req.match),
        req.limit || MAX_ONLINE_LIST,
      );
      for (const developer of developers) {
        if (ctx.signal.aborted) throw new ConnectError("the call was cancelled", Code.Canceled);
        yield { developer: toProto(developer, canSeePrivate(me, developer.id)) };
      }
    },

    async searchDevelopers(req, ctx) {
      const me = requirePrincipal(ctx);
      const tags = normalizeSkillTags(req.skillTags);
      const pageSize = validatePageSize(req.pageSize);
      const rows = await store.search({
        tags,
        match: tagMatch(req.match),
        onlineOnly: req.onlineOnly,
        limit: pageSize + 1,
        after: decodePageToken(req.pageToken),
      });
      const page = rows.slice(0, pageSize);
      return {
        developers: page.map((row) => toProto(row.user, canSeePrivate(me, row.user.id))),
        nextPageToken: rows.length > pageSize
          ? encodePageToken(page[page.length - 1].position)
          : "",
      };
    },

    async rankCandidates(req, ctx) {
      // The ranking shows who is online with what rate to whom: services (the orchestrator) and
      // admins only. No token: unauthenticated (the gate); another role: permission_denied.
      requireRole(ctx, "service", "admin");
      const query = validateRankRequest({
        skillTags: req.skillTags,
        budget: req.budget,
        minSkillCoverage: req.minSkillCoverage,
        rateReferenceHours: req.rateReferenceHours,
        weights: req.weights
          ? {
            skill: req.weights.skill,
            trackRecord: req.weights.trackRecord,
            rate: req.weights.rate,
            load: req.weights.load,
            fairness: req.weights.fairness,
          }
          : undefined,
        excludeIds: req.excludeIds,
        limit: req.limit,
      });
      const ranked = await store.rankCandidates(query);
      return {
        candidates: ranked.map((d) => ({
          developerId: d.id,
          skillTags: d.skillTags,
          hourlyRate: d.hourlyRate,
          baseScore: d.baseScore,
          skillCoverage: d.skillCoverage,
        })),
      };
    },
  };
}

function registrableRole(role: Role): UserRole {
  if (role === Role.CLIENT) return "client";
  if (role === Role.DEVELOPER) return "developer";
  throw new ValidationError(
    "role",
    "must be ROLE_CLIENT or ROLE_DEVELOPER (admins are created by operators)",
  );
}

function tagMatch(match: SkillMatch): TagMatch {
  if (match === SkillMatch.ANY) return "any";
  if (match === SkillMatch.ALL || match === SkillMatch.UNSPECIFIED) return "all";
  throw new ValidationError("match", "must be SKILL_MATCH_ALL or SKILL_MATCH_ANY");
}

function userId(value: string, field: string): string {
  if (!isUuid(value)) {
    throw new ValidationError(field, "must be a user id (a UUID such as 7f1c...-...)");
  }
  return value.toLowerCase();
}

function canSeePrivate(me: Principal, id: string): boolean {
  return me.subject === id || isPrivileged(me);
}
