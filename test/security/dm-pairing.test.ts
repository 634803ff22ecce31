// DM pairing: dmPolicy pairing | allowlist | open | disabled, the 8-character codes, the per-channel cap, and
// approval adding the sender to a persistent allowlist honoured for conversation and commands alike.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { channelModules } from "../../src/channels/registry.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { expectMessage, newThread, postJson, say } from "./chat.ts";

const sent: SentRecord[] = [];
for (const name of ["dmpair", "dmallow", "dmopen", "dmoff"])
  channelModules[name] = dmChannelModule(name, sent);

const CODE = /pairing code is ([A-Z2-9]{8})/;

describe("DM pairing", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        policy: { adminUsers: ["local"] },
        channels: {
          dmpair: { dmPolicy: "pairing", allowFrom: ["friend"] },
          dmallow: { dmPolicy: "allowlist" },
          dmopen: { dmPolicy: "open" },
          dmoff: { dmPolicy: "disabled" },
        },
      },
      extensions: [securityExtension()],
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const from = (channel: string, senderId: string, text: string, kind: "dm" | "group" = "dm") =>
    postJson(`${gw.url}/${channel}/in`, { senderId, text, kind });
  const repliesTo = (channel: string, senderId: string) =>
    sent
      .filter((s) => s.to.channel === channel && s.to.conversationId === `dm-${senderId}`)
      .map((s) => s.message.text);
  const nextReply = (channel: string, senderId: string, count: number) =>
    waitFor(
      () => {
        const r = repliesTo(channel, senderId);
        return r.length >= count ? r[count - 1] : undefined;
      },
      8000,
      `reply ${count} to ${senderId} on ${channel}`,
    );

  test("an unknown sender gets a code; approval admits them for conversation and commands", async () => {
    await from("dmpair", "alice", "hello?");
    const first = await nextReply("dmpair", "alice", 1);
    const code = CODE.exec(first)?.[1];
    assert.ok(code, first);
    assert.match(code!, /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
    assert.equal(agent.requests.length, 0, "nothing reached the agent");

    await from("dmpair", "alice", "hello again");
    assert.equal(
      CODE.exec(await nextReply("dmpair", "alice", 2))?.[1],
      code,
      "the same code while it is valid",
    );

    await from("dmpair", "alice", "/whoami");
    assert.match(await nextReply("dmpair", "alice", 3), /Allowlisted: no/);

    const thread = await newThread(gw.url);
    await say(gw.url, thread, "/pair pending");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content.includes(code!) && m.content.includes("alice"),
      "the code in /pair pending",
    );
    await say(gw.url, thread, `/pair approve ${code!.toLowerCase()}`);
    await expectMessage(gw.url, thread, (m) => m.content.startsWith("Approved user alice"), "the approval");
    assert.match(await nextReply("dmpair", "alice", 4), /approved you/);

    await from("dmpair", "alice", "what's up");
    assert.equal(await nextReply("dmpair", "alice", 5), "echo: what's up");
    await from("dmpair", "alice", "/whoami");
    assert.match(await nextReply("dmpair", "alice", 6), /Allowlisted: yes/);

    const list = await fetch(`${gw.url}/admin/api/pair/allowlist`);
    const entries = ((await list.json()) as { entries: { channel: string; senderId: string }[] }).entries;
    assert.ok(entries.some((e) => e.channel === "dmpair" && e.senderId === "alice"));
  });

  test("at most 3 codes wait per channel; rejecting one frees its place", async () => {
    for (const s of ["b1", "b2"]) await from("dmpair", s, "hi");
    for (const s of ["b1", "b2"]) assert.match(await nextReply("dmpair", s, 1), CODE);
    const pending = (await (await fetch(`${gw.url}/admin/api/pair/pending`)).json()) as {
      items: { id: string; kind: string }[];
    };
    assert.equal(pending.items.filter((i) => i.kind === "dm").length, 2);
    await from("dmpair", "b3", "hi");
    assert.match(await nextReply("dmpair", "b3", 1), CODE);
    await from("dmpair", "b4", "hi");
    assert.match(await nextReply("dmpair", "b4", 1), /3 pairing requests are already waiting/);

    const b1code = CODE.exec(repliesTo("dmpair", "b1")[0]!)![1]!;
    const rejected = await postJson(`${gw.url}/admin/api/pair/reject`, { id: b1code });
    assert.equal(rejected.status, 200);
    await from("dmpair", "b4", "hi again");
    assert.match(await nextReply("dmpair", "b4", 2), CODE);
    const twice = await postJson(`${gw.url}/admin/api/pair/approve`, { id: b1code });
    assert.equal(twice.status, 404, "a rejected code cannot be approved");
  });

  test("allowlisted senders, groups and the other policies", async () => {
    await from("dmpair", "friend", "hi friend");
    assert.equal(await nextReply("dmpair", "friend", 1), "echo: hi friend");

    const before = sent.length;
    await from("dmpair", "stranger", "hello group", "group");
    await from("dmoff", "carol", "hello?");
    await from("dmallow", "dave", "hello?");
    assert.match(await nextReply("dmallow", "dave", 1), /only answers people on its allowlist/);
    await from("dmopen", "erin", "hello open");
    assert.equal(await nextReply("dmopen", "erin", 1), "echo: hello open");
    assert.equal(sent.length, before + 2, "no reply to the group stranger or on the disabled channel");
  });
});
