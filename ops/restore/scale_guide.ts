/**
 * The manual's "scale to 0, restore, scale back" for the two ways the platform is deployed. The
 * restore program prints it; docs/ops.md explains it.
 *
 * @module
 */

/** The Kubernetes namespace and deployments of the manual, with its replica counts. */
export const DEPLOYMENTS = [
  { deployment: "userservice", replicas: 3 },
  { deployment: "taskservice", replicas: 2 },
  { deployment: "orchestrator", replicas: 2 },
] as const;

/** The manual's namespace. */
export const NAMESPACE = "freelance-platform";

/**
 * What to run before the restore swaps the database (the services hold connections to it).
 *
 * @example
 * ```ts
 * for (const line of scaleDownGuide()) output.line(line);
 * ```
 */
export function scaleDownGuide(): string[] {
  const names = DEPLOYMENTS.map((d) => d.deployment).join(" ");
  return [
    "Stop the services first (the manual's scale to 0), so nothing writes during the restore:",
    `  Kubernetes: kubectl scale deployment ${names} --replicas=0 -n ${NAMESPACE}`,
    `  Compose:    docker compose stop ${names}`,
    "Sessions still connected when the database is swapped are disconnected.",
  ];
}

/**
 * What to run after the restore (the manual's scale back, with its replica counts).
 *
 * @example
 * ```ts
 * for (const line of scaleUpGuide()) output.line(line);
 * ```
 */
export function scaleUpGuide(): string[] {
  return [
    "Start the services again (the manual's scale back):",
    ...DEPLOYMENTS.map((d) =>
      `  Kubernetes: kubectl scale deployment ${d.deployment} --replicas=${d.replicas} -n ${NAMESPACE}`
    ),
    `  Compose:    docker compose start ${DEPLOYMENTS.map((d) => d.deployment).join(" ")}`,
    "Then check: deno task doctor",
  ];
}
