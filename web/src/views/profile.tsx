/**
 * A user's public profile page (`#/people/<id>`): whom a client is about to hire. Reached from
 * every proposal a client sees and from a task's assigned developer.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type PublicProfile, Role } from "@platform/proto/users/v1";
import { useApp } from "../context.ts";
import { describeError, type Problem } from "../errors.ts";
import { formatMoney, formatTime } from "../format.ts";
import { ProblemBox, Section } from "./components.tsx";

/**
 * A link to a user's profile page: their display name and handle, so two people of one name are
 * told apart at a glance.
 *
 * @example
 * ```tsx
 * <PersonLink userId={p.developerId} profile={profile} />
 * ```
 */
export function PersonLink(
  props: { userId: string; profile?: PublicProfile; fallback?: string },
): JSX.Element {
  const name = props.profile?.displayName || props.fallback || "A developer";
  return (
    <a class="person" href={`#/people/${props.userId}`}>
      {name}
      {props.profile?.handle && <span class="handle">{props.profile.handle}</span>}
    </a>
  );
}

/**
 * The profile page of one user.
 *
 * @example
 * ```tsx
 * <ProfilePage userId={id} />
 * ```
 */
export function ProfilePage(props: { userId: string }): JSX.Element {
  const { api } = useApp();
  const [profile, setProfile] = useState<PublicProfile>();
  const [problem, setProblem] = useState<Problem>();

  useEffect(() => {
    const controller = new AbortController();
    setProfile(undefined);
    setProblem(undefined);
    api.users.getPublicProfile({ userId: props.userId }, { signal: controller.signal })
      .then(({ profile }) => setProfile(profile))
      .catch((error) => {
        if (!controller.signal.aborted) setProblem(describeError(error, "User Service"));
      });
    return () => controller.abort();
  }, [api, props.userId]);

  return (
    <div class="page">
      <p>
        <a href="#/" onClick={backIfCameFromApp}>← Back</a>
      </p>
      <h1 tabIndex={-1}>
        {profile?.displayName ?? "Profile"}
        {profile && <span class="handle">{profile.handle}</span>}
      </h1>
      <ProblemBox problem={problem} />
      {!profile && !problem && <p class="muted">Loading the profile…</p>}
      {profile && (
        <Section title="About" id="profile-about">
          <dl class="facts">
            <dt>Role</dt>
            <dd>{profile.role === Role.DEVELOPER ? "Developer" : "Client"}</dd>
            <dt>Member since</dt>
            <dd id="profile-member-since">{formatTime(profile.memberSince)}</dd>
            {profile.role === Role.DEVELOPER && (
              <>
                <dt>Skills</dt>
                <dd id="profile-skills">{profile.skillTags.join(", ") || "None given"}</dd>
                <dt>Hourly rate</dt>
                <dd id="profile-rate">
                  {profile.hourlyRate ? `${formatMoney(profile.hourlyRate)}/hour` : "Not given"}
                </dd>
              </>
            )}
            <dt>About</dt>
            <dd id="profile-bio">{profile.bio || "Nothing written yet."}</dd>
          </dl>
          {/* Ratings and tasks completed go here when the services provide them (issue 20). */}
        </Section>
      )}
    </div>
  );
}

/** Goes back in history when there is a page of this app to go back to. */
function backIfCameFromApp(event: MouseEvent): void {
  if (history.length > 1) {
    event.preventDefault();
    history.back();
  }
}
