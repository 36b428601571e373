/**
 * Whether this process exports traces. Deno's built-in OpenTelemetry is switched on by
 * `OTEL_DENO=true` in the environment the process starts with (Deno reads it once, at start-up),
 * so the answer never changes while the process runs. Everything in this folder checks it first:
 * with tracing off no span object is made and no context is looked up.
 *
 * @module
 */

function readEnabled(): boolean {
  try {
    return Deno.env.get("OTEL_DENO") === "true";
  } catch {
    return false; // no --allow-env: Deno could read it, but then we cannot tell; stay quiet
  }
}

/**
 * True when Deno exports OpenTelemetry data (`OTEL_DENO=true` at start-up).
 *
 * @example
 * ```ts ignore
 * if (tracingEnabled) span.setAttribute("task.id", id);
 * ```
 */
export const tracingEnabled: boolean = readEnabled();
