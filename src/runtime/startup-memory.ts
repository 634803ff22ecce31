// Starting compiles some 500 modules and builds the config schema; V8 grows its young generation for that burst
// and keeps the pages resident (about 15 MB) though they are nearly empty once the gateway idles. One
// memory-reducing collection after start-up gives them back; they grow again only if the load needs them.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

export function releaseStartupMemory(): void {
  try {
    // Only a fresh context sees the flag: the gateway's own globals keep no gc().
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as Gc | undefined;
    gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    // A runtime without the flag: the memory is given back later by V8's own heuristics.
  }
}
