// Clock skew, read from the Date header of every answer doctor gets (agent and platforms). Signed webhooks carry
// a timestamp checked against our clock (Slack: 5 minutes; WeChat: timestampWindowSec), so a clock that is off
// refuses every genuine request.
import { failed, ok, warn } from "../channels/sdk/doctor.ts";
import type { DoctorCheck } from "../channels/types.ts";

export interface DateSample {
  host: string;
  /** The server's Date header. */
  serverMs: number;
  /** Our clock halfway between sending the request and getting the answer's headers. */
  localMs: number;
}

/** Beyond this, signed webhooks are refused (Slack's and WeChat's default window). */
const REFUSED_S = 300;
const WARN_S = 30;

/** Seconds our clock is behind the server (negative: ahead). Date has whole seconds, so half a second is added. */
export function skewSeconds(s: DateSample): number {
  return (s.serverMs + 500 - s.localMs) / 1000;
}

/** Channels that refuse a signed request whose timestamp is more than REFUSED_S from our clock. */
const WINDOWED: Record<string, string> = { slack: "Slack", wechat: "WeChat" };

/** `channels`: the enabled ones; a skew blocks only those that check request timestamps. */
export function clockCheck(samples: DateSample[], channels: string[] = []): DoctorCheck {
  const title = "Clock";
  if (samples.length === 0) {
    return {
      id: "clock.skew",
      title,
      status: "skip",
      detail: "no answer carried a Date header to compare with",
    };
  }
  // Our clock being wrong shows in every answer; the largest difference is the one that gets refused.
  const worst = samples.reduce((a, b) => (Math.abs(skewSeconds(b)) > Math.abs(skewSeconds(a)) ? b : a));
  const skew = Math.round(skewSeconds(worst));
  const side = skew > 0 ? "behind" : "ahead of";
  const detail = `this host's clock is ${Math.abs(skew)} s ${side} ${worst.host}`;
  const fix = "synchronise the clock (enable NTP: timedatectl set-ntp true, or chrony)";
  const blocked = [...new Set(channels)].filter((c) => WINDOWED[c]).map((c) => WINDOWED[c]);
  if (Math.abs(skew) >= REFUSED_S && blocked.length) {
    return failed(
      "clock.skew",
      title,
      `${detail}: signed webhooks older than ${REFUSED_S} s are refused (${blocked.join(", ")}), so those channels receive nothing`,
      fix,
    );
  }
  if (Math.abs(skew) >= WARN_S) return warn("clock.skew", title, detail, fix);
  const hosts = [...new Set(samples.map((s) => s.host))];
  return ok("clock.skew", title, `within ${Math.max(1, Math.abs(skew))} s of ${hosts.join(", ")}`);
}

/**
 * Records the Date header of every fetch answer until stopped. The platform clients keep their headers to
 * themselves, and doctor is a one-shot process, so watching fetch sees every answer without a hook in each client.
 */
export function observeDates(): { samples: DateSample[]; stop(): void } {
  const samples: DateSample[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const sent = Date.now();
    const res = await original(input, init);
    const date = Date.parse(res.headers.get("date") ?? "");
    if (Number.isFinite(date)) {
      const url = new URL(input instanceof Request ? input.url : String(input));
      samples.push({ host: url.host, serverMs: date, localMs: (sent + Date.now()) / 2 });
    }
    return res;
  };
  const stop = () => {
    globalThis.fetch = original;
  };
  return { samples, stop };
}
