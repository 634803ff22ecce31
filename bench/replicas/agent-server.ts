// The fast fake agent for bench/replicas, in its own process so it never shares the load driver's event loop:
// the whole reply in one streamed chunk, no delays. Sends its URL to the parent over IPC.
import { FakeAgent } from "../../test/fakes/openai-agent.ts";

const agent = await new FakeAgent({ chunkSize: 10_000, reply: () => "ok, noted." }).start();
process.send?.({ url: agent.url });
process.on("disconnect", () => void agent.stop().then(() => process.exit(0)));
