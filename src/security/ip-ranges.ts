// Address classification for two policies: which hosts a cleartext (http:// / ws://) pairing URL may name, and
// which addresses a fetch made on a chat user's behalf must never reach. Pure; IPv4-mapped IPv6 addresses
// (::ffff:0:0/96) are matched against the IPv4 rules by node's BlockList; the other IPv6 ranges that embed an
// IPv4 address (IPv4-compatible, SIIT, NAT64, 6to4) are refused whole.
import { BlockList, isIP } from "node:net";

function blockList(v4: [string, number][], v6: [string, number][]): BlockList {
  const list = new BlockList();
  for (const [net, bits] of v4) list.addSubnet(net, bits, "ipv4");
  for (const [net, bits] of v6) list.addSubnet(net, bits, "ipv6");
  return list;
}

/** Where cleartext pairing is acceptable: the device and the gateway share a private network segment. */
const CLEARTEXT_OK = blockList(
  [
    ["127.0.0.0", 8],
    ["10.0.0.0", 8], // includes 10.0.2.2, the Android emulator's host alias
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
    ["169.254.0.0", 16],
  ],
  [
    ["::1", 128],
    ["fe80::", 10],
    ["fc00::", 7],
  ],
);

/**
 * Addresses a server-side fetch must not reach without explicit permission: loopback, private, link-local
 * (cloud metadata lives at 169.254.169.254), carrier-grade NAT, multicast, reserved and translation ranges.
 */
const NOT_PUBLIC = blockList(
  [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.88.99.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4],
  ],
  [
    // ::/96 (IPv4-compatible, deprecated) holds "::", "::1" and "::127.0.0.1"; ::ffff:0:0:0/96 is SIIT's
    // IPv4-translated form (RFC 2765; not ::ffff:0:0/96, which is IPv4-mapped and checked as IPv4). Both embed
    // an IPv4 address that a stack or translator may reach, so neither range is public.
    ["::", 96],
    ["::ffff:0:0:0", 96],
    ["64:ff9b::", 96],
    ["64:ff9b:1::", 48],
    ["100::", 64],
    ["2001:db8::", 32],
    ["2002::", 16],
    ["fc00::", 7],
    ["fe80::", 10],
    ["fec0::", 10],
    ["ff00::", 8],
  ],
);

/** Strips the brackets URL.hostname keeps around IPv6 literals. */
export function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

function family(ip: string): "ipv4" | "ipv6" | undefined {
  const f = isIP(ip);
  return f === 4 ? "ipv4" : f === 6 ? "ipv6" : undefined;
}

/** True for an IP literal outside every private, loopback, link-local and reserved range. */
export function isPublicAddress(ip: string): boolean {
  const bare = bareHost(ip).split("%")[0]!;
  const f = family(bare);
  if (!f) return false;
  return !NOT_PUBLIC.check(bare, f);
}

/**
 * The cleartext pairing rule: loopback, 10.0.2.2, `*.local`, RFC 1918, 169.254/16, fe80::/10 and fc00::/7.
 * Anything else — public names and addresses, and 100.64/10 (Tailscale, carrier-grade NAT) — needs TLS.
 */
export function cleartextAllowedHost(hostname: string): boolean {
  const host = bareHost(hostname).toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.endsWith(".local")) return true;
  const bare = host.split("%")[0]!;
  const f = family(bare);
  return f !== undefined && CLEARTEXT_OK.check(bare, f);
}
