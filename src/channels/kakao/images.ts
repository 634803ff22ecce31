// Where a SkillPayload names the pictures a user sent. A photo sent to a block without parameters comes as
// userRequest.params.media {type:"image", url}; the secure image plugin (@sys.plugin.secureimage) fills its
// block parameter with a JSON string whose `secureUrls` is Kakao's list notation `List(url1, url2)`, in
// action.params and again in action.detailParams.<name>.origin. The URLs are Kakao's (talk.kakaocdn.net …) and
// short-lived; they are fetched later by the inbox worker, and only from the hosts the operator allows.

/** KakaoTalk serves chat images from its CDN hosts. */
export const KAKAO_MEDIA_HOSTS = ["*.kakaocdn.net", "*.kakao.com"];
/** The secure image plugin takes up to 30 pictures at once; more in one payload is not Kakao's. */
const MAX_IMAGES = 30;

/** The image URLs a skill payload carries, in order, each once. */
export function payloadImageUrls(payload: unknown): string[] {
  const p = payload as {
    userRequest?: { params?: { media?: { type?: unknown; url?: unknown } } };
    action?: { params?: Record<string, unknown>; detailParams?: Record<string, { origin?: unknown }> };
  };
  const found = new Set<string>();
  const media = p?.userRequest?.params?.media;
  if (media?.type === "image" && typeof media.url === "string") found.add(media.url);
  for (const value of Object.values(objectOr(p?.action?.params))) {
    for (const url of secureUrls(value)) found.add(url);
  }
  for (const detail of Object.values(objectOr(p?.action?.detailParams))) {
    for (const url of secureUrls((detail as { origin?: unknown } | null)?.origin)) found.add(url);
  }
  return [...found].filter(isHttpUrl).slice(0, MAX_IMAGES);
}

const objectOr = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** URLs in a secure-image parameter value: `{"secureUrls":"List(a, b)",…}` or `List(a, b)` itself. */
function secureUrls(value: unknown): string[] {
  if (typeof value !== "string") return [];
  let text = value.trim();
  if (text.startsWith("{")) {
    try {
      const json = JSON.parse(text) as { secureUrls?: unknown };
      text = typeof json?.secureUrls === "string" ? json.secureUrls.trim() : "";
    } catch {
      return [];
    }
  }
  const list = /^List\(([\s\S]*)\)$/.exec(text);
  if (!list) return [];
  return list[1]!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}
