// node:http and node:https through require(), not `import`: importing a built-in module builds its ES namespace
// from every export, and three of node:http's (WebSocket, CloseEvent, MessageEvent) are getters that load Node's
// bundled fetch library (undici, with node:http2) to answer — about 2 MB resident at idle for a gateway that has
// not fetched anything yet. require() reads only the exports that are used. Type-only imports are free.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const http = require("node:http") as typeof import("node:http");
export const https = require("node:https") as typeof import("node:https");
