// A test-only gateway extension with a command that answers with buttons (/pick), one that answers with an image
// (/img), and the button handler ("pick:<x>"), so channel tests can exercise buttons and media end to end.
import sharp from "sharp";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";

export async function testPng(width = 32, height = 32): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: "#ff8800" } })
    .png()
    .toBuffer();
}

export function channelTestExtension(image?: Buffer): GatewayExtension {
  return {
    name: "channel-test",
    async setup(gw) {
      const png = image ?? (await testPng());
      gw.commands.register({
        name: "/pick",
        description: "answers with two buttons",
        handler: () => ({
          text: "Pick one",
          buttons: [
            { label: "Alpha", value: "pick:alpha", style: "primary" },
            { label: "Beta", value: "pick:beta" },
          ],
        }),
      });
      gw.commands.register({
        name: "/img",
        description: "answers with an image",
        handler: () => ({
          text: "here is the picture",
          media: [
            { dataBase64: png.toString("base64"), mime: "image/png", filename: "pic.png", caption: "a pic" },
          ],
        }),
      });
      gw.actions.register("pick", async ({ value }) => ({
        toast: "noted",
        reply: { text: `picked ${value.slice(5)}` },
      }));
    },
  };
}

/** Config that makes the test commands public, so allowlisted senders can use them without being admins. */
export const testCommandPolicy = { overrides: { "/pick": "public", "/img": "public" } };
