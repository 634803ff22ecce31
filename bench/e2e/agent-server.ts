// The fast fake agent for bench/e2e, in its own process: answers `echo: <message>` in one streamed chunk, at
// once, so each answer names the message it belongs to. Sends its URL to the parent over IPC.
import { FakeAgent } from "../../test/fakes/openai-agent.ts";

const agent = await new FakeAgent({ chunkSize: 10_000 }).start();
// Keep no request log: a benchmark sends tens of thousands.
agent.requests.push = () => 0;
process.send?.({ url: agent.url });
process.on("disconnect", () => void agent.stop().then(() => process.exit(0)));
