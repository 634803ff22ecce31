// ComfyClient.uploadImage against the fake's /upload/image, which behaves like ComfyUI's image_upload: a name
// already taken by other bytes gets " (1)", the same bytes keep their name, overwrite=true replaces, and a form
// without a file or with a subfolder leaving the input folder is a bare 400.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ComfyClient, ComfyError } from "../../src/targets/comfyui/client.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";

describe("POST /upload/image", () => {
  let comfy: FakeComfyUI;
  let client: ComfyClient;
  before(async () => {
    comfy = await FakeComfyUI.start();
    client = new ComfyClient(comfy.url);
  });
  after(() => comfy.close());

  it("answers with the name it chose, and serves the file back from the input folder", async () => {
    const a = Buffer.from("\x89PNG\r\n\x1a\nfirst");
    const b = Buffer.from("\x89PNG\r\n\x1a\nsecond");
    assert.deepEqual(await client.uploadImage(a, "x.png", "image/png", "sub"), {
      name: "x.png",
      subfolder: "sub",
      type: "input",
    });
    assert.equal((await client.uploadImage(b, "x.png", "image/png", "sub")).name, "x (1).png");
    assert.equal((await client.uploadImage(a, "x.png", "image/png", "sub")).name, "x.png", "same bytes");
    const res = await fetch(
      `${comfy.url}/view?filename=${encodeURIComponent("x (1).png")}&subfolder=sub&type=input`,
    );
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(b));
    assert.deepEqual(
      comfy.uploads.map((u) => [u.name, u.subfolder, u.type, u.overwrite]),
      [
        ["x.png", "sub", "input", "false"],
        ["x (1).png", "sub", "input", "false"],
        ["x.png", "sub", "input", "false"],
      ],
    );
  });

  it("a LoadImage naming a file that was not uploaded fails validation like ComfyUI", async () => {
    const err = await client
      .submit(
        {
          "1": { class_type: "LoadImage", inputs: { image: "sub/nothing.png" } },
          "2": { class_type: "SaveImage", inputs: { images: ["1", 0] } },
        },
        "c1",
      )
      .catch((e: unknown) => e);
    assert.ok(err instanceof ComfyError);
    assert.equal(
      err.message,
      "ComfyUI refused the workflow: Prompt outputs failed validation — node 1 (LoadImage): Custom validation failed for node [LoadImage - Invalid image file: sub/nothing.png]",
    );
  });

  it("a subfolder outside the input folder, or no file, is a 400", async () => {
    await assert.rejects(client.uploadImage(Buffer.from("x"), "y.png", "image/png", "../escape"), /HTTP 400/);
    const form = new FormData();
    form.append("type", "input");
    const res = await fetch(`${comfy.url}/upload/image`, { method: "POST", body: form });
    assert.equal(res.status, 400);
  });
});
