/**
 * Which peers may tell the service who its client is (`X-Forwarded-For`): the edge proxies in
 * front of it, by address or network (TRUSTED_PROXIES). Nobody by default: a client could
 * otherwise name any address it likes and escape per-address limits.
 *
 * @module
 */
import { ConfigError } from "./env.ts";

/** Decides whether an address belongs to a trusted proxy. */
export interface TrustedProxies {
  /** True when `address` (IPv4 or IPv6, as the socket reports it) is a trusted proxy. */
  trusts(address: string): boolean;
  /** True when at least one proxy is trusted. */
  readonly any: boolean;
}

/**
 * Parses a list of IP addresses and IPv4 networks (`10.0.0.0/8`, `127.0.0.1`, `::1`). Throws
 * {@link ConfigError} naming `variable` on an item that is neither.
 *
 * @example
 * ```ts
 * const proxies = parseTrustedProxies("TRUSTED_PROXIES", ["172.18.0.0/16", "::1"]);
 * proxies.trusts("172.18.0.5"); // true
 * ```
 */
export function parseTrustedProxies(variable: string, items: readonly string[]): TrustedProxies {
  const exact = new Set<string>();
  const networks: Array<{ base: number; mask: number }> = [];
  for (const item of items) {
    const [address, bits, extra] = item.split("/");
    if (extra !== undefined) throw invalid(variable, item);
    if (bits === undefined) {
      if (ipv4ToInt(address) === undefined && !isIpv6(address)) throw invalid(variable, item);
      exact.add(canonical(address));
      continue;
    }
    const base = ipv4ToInt(address);
    const prefix = /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
    if (base === undefined || !(prefix >= 0 && prefix <= 32)) throw invalid(variable, item);
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    networks.push({ base: (base & mask) >>> 0, mask });
  }
  return {
    any: exact.size > 0 || networks.length > 0,
    trusts(address: string): boolean {
      const name = canonical(address);
      if (exact.has(name)) return true;
      const value = ipv4ToInt(name);
      return value !== undefined && networks.some((n) => ((value & n.mask) >>> 0) === n.base);
    },
  };
}

function invalid(variable: string, item: string): ConfigError {
  return new ConfigError(
    variable,
    "must list IP addresses or IPv4 networks such as 10.0.0.0/8, separated by commas",
    item,
  );
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is its IPv4 address; IPv6 in lower case. */
function canonical(address: string): string {
  const lower = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped ? mapped[1] : lower;
}

function ipv4ToInt(address: string): number | undefined {
  const parts = canonical(address).split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value >>> 0;
}

function isIpv6(address: string): boolean {
  return /^[0-9a-f:.]+$/i.test(address) && address.includes(":");
}
