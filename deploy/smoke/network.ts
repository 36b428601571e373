/**
 * The private network namespace the smoke test's container engine lives in. The engine's
 * bridges, iptables rules and published ports stay inside it, so the machine's own services (and
 * the shared servers on 5432/4222/6379) are neither seen nor disturbed.
 *
 * A veth pair joins it to the machine: the machine side is `.1`, the namespace side `.2` of a /30.
 * Published ports are bound to the `.2` address, so this process reaches the stack directly.
 * Outgoing traffic (image builds fetch Debian and npm packages) is masqueraded by one iptables rule
 * on the machine, removed again at the end together with the forwarding setting it changed.
 *
 * @module
 */
import { CannotRun, must, run, SmokeError } from "./command.ts";

/** Names and addresses of the namespace. */
export interface NetworkSpec {
  namespace: string;
  /** The machine-side veth device (the namespace side is `<name>p`). */
  device: string;
  /** The /30 as its first three octets and base: e.g. "10.213.77" with .0/30. */
  prefix: string;
}

/** The default: fixed names, so a run interrupted half-way is cleaned up by the next. */
export const SMOKE_NETWORK: NetworkSpec = {
  namespace: "fp-smoke",
  device: "fpsmoke0",
  prefix: "10.213.77",
};

/**
 * A network namespace with a way out.
 *
 * @example
 * ```ts
 * const net = await PrivateNetwork.create(SMOKE_NETWORK);
 * await net.remove();
 * ```
 */
export class PrivateNetwork {
  private forwardBefore?: string;
  private natRule = false;

  private constructor(readonly spec: NetworkSpec) {}

  /** The namespace side's address: published ports listen here. */
  get address(): string {
    return `${this.spec.prefix}.2`;
  }

  /** The namespace's file, for `nsenter --net=`. */
  get path(): string {
    return `/run/netns/${this.spec.namespace}`;
  }

  /**
   * Creates the namespace, the veth pair and the NAT rule (after removing what an interrupted
   * earlier run may have left).
   */
  static async create(spec: NetworkSpec): Promise<PrivateNetwork> {
    const net = new PrivateNetwork(spec);
    await net.removeLeftovers();
    const added = await run("ip", ["netns", "add", spec.namespace]);
    if (added.code !== 0) {
      throw new CannotRun(`cannot create a network namespace: ${added.stderr.trim()}`);
    }
    const peer = `${spec.device}p`;
    const sub = spec.prefix;
    try {
      await must("ip", ["-n", spec.namespace, "link", "set", "lo", "up"]);
      await must("ip", ["link", "add", spec.device, "type", "veth", "peer", "name", peer]);
      await must("ip", ["link", "set", peer, "netns", spec.namespace]);
      await must("ip", ["addr", "add", `${sub}.1/30`, "dev", spec.device]);
      await must("ip", ["link", "set", spec.device, "up"]);
      await must("ip", ["-n", spec.namespace, "addr", "add", `${sub}.2/30`, "dev", peer]);
      await must("ip", ["-n", spec.namespace, "link", "set", peer, "up"]);
      await must("ip", ["-n", spec.namespace, "route", "add", "default", "via", `${sub}.1`]);
      net.forwardBefore = (await Deno.readTextFile("/proc/sys/net/ipv4/ip_forward")).trim();
      await Deno.writeTextFile("/proc/sys/net/ipv4/ip_forward", "1\n");
      await must("iptables", ["-t", "nat", "-A", ...net.natRuleArgs()]);
      net.natRule = true;
    } catch (error) {
      await net.remove();
      throw error;
    }
    return net;
  }

  /**
   * Removes the namespace (killing anything still running in it), the veth pair (it goes with
   * the namespace) and the NAT rule, and restores the forwarding setting.
   */
  async remove(): Promise<void> {
    const problems: string[] = [];
    await this.killInside();
    const deleted = await run("ip", ["netns", "del", this.spec.namespace]);
    if (deleted.code !== 0 && !/No such file/.test(deleted.stderr)) {
      problems.push(`ip netns del: ${deleted.stderr.trim()}`);
    }
    await run("ip", ["link", "del", this.spec.device]); // gone with the namespace normally
    if (this.natRule) {
      const rule = await run("iptables", ["-t", "nat", "-D", ...this.natRuleArgs()]);
      if (rule.code !== 0) problems.push(`iptables -D: ${rule.stderr.trim()}`);
      this.natRule = false;
    }
    if (this.forwardBefore !== undefined) {
      await Deno.writeTextFile("/proc/sys/net/ipv4/ip_forward", `${this.forwardBefore}\n`);
      this.forwardBefore = undefined;
    }
    if (problems.length > 0) throw new SmokeError(`cleanup: ${problems.join("; ")}`);
  }

  private natRuleArgs(): string[] {
    return [
      "POSTROUTING",
      "-s",
      `${this.spec.prefix}.0/30`,
      "!",
      "-o",
      this.spec.device,
      "-j",
      "MASQUERADE",
      "-m",
      "comment",
      "--comment",
      "freelance-platform deploy:smoke",
    ];
  }

  private async killInside(): Promise<void> {
    const pids = await run("ip", ["netns", "pids", this.spec.namespace]);
    for (const pid of pids.stdout.split("\n").map(Number).filter((n) => n > 0)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }

  /** What an interrupted earlier run left: its namespace, device and NAT rule. */
  private async removeLeftovers(): Promise<void> {
    const list = await run("ip", ["netns", "list"]);
    if (list.stdout.split("\n").some((l) => l.split(" ")[0] === this.spec.namespace)) {
      console.log(`    removing the namespace ${this.spec.namespace} an earlier run left`);
      await this.killInside();
      await run("ip", ["netns", "del", this.spec.namespace]);
    }
    await run("ip", ["link", "del", this.spec.device]);
    while ((await run("iptables", ["-t", "nat", "-C", ...this.natRuleArgs()])).code === 0) {
      await run("iptables", ["-t", "nat", "-D", ...this.natRuleArgs()]);
    }
  }
}
