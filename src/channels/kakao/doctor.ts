// `clawgate doctor` for a Kakao skill: the public URL Open Builder calls, and the callback hosts a long answer may
// be posted to (skill requests are unsigned, so only allowlisted callback hosts are followed).
import { ok, publicUrlCheck, settingsKey, warn } from "../sdk/doctor.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { KAKAO_CALLBACK_HOSTS } from "./callback-hosts.ts";

export async function kakaoDoctor(
  s: { callbackHosts: string[] },
  ctx: DoctorContext,
  path: string,
): Promise<DoctorCheck[]> {
  const id = `kakao.${ctx.account}`;
  const own = s.callbackHosts.filter((h) => !KAKAO_CALLBACK_HOSTS.includes(h));
  return [
    publicUrlCheck({
      id: `${id}.public-url`,
      platform: "Kakao",
      config: ctx.config,
      path,
      httpsRequired: false,
    }),
    own.length
      ? warn(
          `${id}.callback-hosts`,
          "Kakao callback hosts",
          `callbacks are also followed to ${own.join(", ")}, besides Kakao's own hosts`,
          `keep only hosts you trust in ${settingsKey("kakao", ctx.account)}.callbackHosts: skill requests are unsigned`,
        )
      : ok(`${id}.callback-hosts`, "Kakao callback hosts", s.callbackHosts.join(", ")),
  ];
}
