/**
 * CPU time read from /proc (Linux), to say where a benchmark's CPU went: a process's user +
 * system time, and the whole machine's busy time (all cores), in milliseconds.
 *
 * @module
 */

/** User + system CPU time of a process, ms (NaN when /proc cannot tell). */
export function processCpuMs(pid: number | "self"): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // 100 ticks a second
  } catch {
    return NaN;
  }
}

/** Busy CPU time of the whole machine, all cores (everything but idle and iowait), ms. */
export function machineBusyMs(): number {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return NaN;
  }
}
