// qrcode (with its PNG encoder, some 60 modules) is imported at the first code drawn, not at start-up.
let qrcodeModule: Promise<typeof import("qrcode")> | undefined;

export async function qrCodes(): Promise<typeof import("qrcode")> {
  qrcodeModule ??= import("qrcode").then((m) => (m as { default?: typeof import("qrcode") }).default ?? m);
  return qrcodeModule;
}
