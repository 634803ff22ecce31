// `clawgate doctor` for a WeChat Official Account: the public URL WeChat calls, and appId/appSecret by fetching an
// access token (needed for answers that miss the 5-second passive-reply window).
import { describeFailure, failed, ok, publicUrlCheck, settingsKey } from "../sdk/doctor.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { WechatClient } from "./client.ts";

export async function wechatDoctor(
  s: { appId?: string; appSecret?: string; apiBase: string },
  ctx: DoctorContext,
  path: string,
): Promise<DoctorCheck[]> {
  const id = `wechat.${ctx.account}`;
  const out: DoctorCheck[] = [
    publicUrlCheck({
      id: `${id}.public-url`,
      platform: "WeChat",
      config: ctx.config,
      path,
      httpsRequired: false,
    }),
  ];
  const title = "WeChat appId and appSecret";
  if (!s.appId || !s.appSecret) {
    out.push({
      id: `${id}.access-token`,
      title,
      status: "skip",
      detail: "no appId/appSecret: only passive replies (within 5 s) are possible; longer answers are lost",
      fix: `set ${settingsKey("wechat", ctx.account)}.appId and .appSecret (WeChat console → Basic configuration)`,
    });
    return out;
  }
  const client = new WechatClient({
    appId: s.appId,
    appSecret: s.appSecret,
    apiBase: s.apiBase,
    store: ctx.store,
    log: ctx.log,
  });
  try {
    await client.withAccessToken(
      async (token) => token,
      () => false,
    );
    out.push(ok(`${id}.access-token`, title, `an access token was issued for ${s.appId}`));
  } catch (err) {
    out.push(
      failed(
        `${id}.access-token`,
        title,
        `WeChat issued no access token: ${describeFailure(err)}`,
        `check ${settingsKey("wechat", ctx.account)}.appId / .appSecret, and add this host's public IP to the IP allowlist in the WeChat console (Basic configuration)`,
      ),
    );
  }
  return out;
}
