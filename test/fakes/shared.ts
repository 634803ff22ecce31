// Plumbing every fake platform server shares: listen on an ephemeral loopback port, stop promptly (keep-alive
// connections dropped, so a test never waits for them), read a whole request body.
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on 127.0.0.1 (port 0: one the OS picks) and returns the server's base URL, http://127.0.0.1:<port>. */
export async function listenLocal(server: Server, port = 0): Promise<string> {
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes the server after dropping its open connections. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
