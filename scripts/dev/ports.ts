/**
 * The ports `deno task start` will listen on, each with the variable that moves it, checked free
 * before anything starts: a taken port is named with its variable instead of failing one process
 * seconds later and stopping the rest.
 *
 * @module
 */

/** One port the start script's programs will listen on. */
export interface PlannedPort {
  /** Who listens ("web app", "User Service"). */
  who: string;
  /** The variable that moves it. */
  variable: string;
  /** The port. */
  port: number;
}

const DEFAULTS = [
  { who: "User Service", variable: "USERS_PORT", port: 50051 },
  { who: "Task Service", variable: "TASKS_PORT", port: 50052 },
  { who: "Orchestrator", variable: "ORCHESTRATOR_PORT", port: 50053 },
  { who: "web app", variable: "WEB_PORT", port: 8080 },
];

/**
 * The ports from the environment (or their defaults); throws an Error naming a bad variable.
 *
 * @example
 * ```ts
 * plannedPorts({ WEB_PORT: "8081" }).find((p) => p.variable === "WEB_PORT")!.port; // 8081
 * ```
 */
export function plannedPorts(env: Record<string, string | undefined>): PlannedPort[] {
  const planned = DEFAULTS.map((d) => {
    const raw = env[d.variable]?.trim();
    if (raw === undefined || raw === "") return { ...d };
    const port = Number(raw);
    if (!/^\d+$/.test(raw) || port > 65535) {
      throw new Error(`${d.variable} must be a port number (0-65535, 0: any), got "${raw}"`);
    }
    return { ...d, port };
  });
  for (let i = 0; i < planned.length; i++) {
    const twin = planned.slice(0, i).find((p) => p.port !== 0 && p.port === planned[i].port);
    if (twin) {
      throw new Error(
        `${twin.variable} and ${planned[i].variable} are both ${
          planned[i].port
        }: give each its own`,
      );
    }
  }
  return planned;
}

/**
 * The planned ports something already listens on, found by binding each briefly on `hostname`.
 *
 * @example
 * ```ts
 * const busy = busyPorts(plannedPorts(Deno.env.toObject()), "0.0.0.0");
 * ```
 */
export function busyPorts(planned: PlannedPort[], hostname: string): PlannedPort[] {
  return planned.filter(({ port }) => {
    if (port === 0) return false; // any free port
    try {
      Deno.listen({ port, hostname }).close();
      return false;
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) return true;
      throw error;
    }
  });
}

/**
 * What to tell the user about taken ports: one line each, with the variable that moves it.
 *
 * @example
 * ```ts
 * busyPortsMessage([{ who: "web app", variable: "WEB_PORT", port: 8080 }]);
 * ```
 */
export function busyPortsMessage(busy: PlannedPort[]): string {
  return [
    "cannot start: these ports are taken (nothing was started):",
    ...busy.map((p) =>
      `  ${p.port} (${p.who}): stop what listens there (ss -ltnp 'sport = :${p.port}'), or set ${p.variable}=<free port>`
    ),
    `e.g. ${busy.map((p) => `${p.variable}=${p.port + 1}`).join(" ")} deno task start`,
  ].join("\n");
}
