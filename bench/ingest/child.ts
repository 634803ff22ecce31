// The benchmark's side of a server child process (gateway-server.ts, baseline-server.ts): it reports its URL
// once listening, answers "cpu" with its CPU time, and exits on "stop".
import type { ChildProcess } from "node:child_process";

export function waitForUrl(child: ChildProcess, timeoutSec = 20): Promise<string> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`server did not start within ${timeoutSec} s`)),
      timeoutSec * 1000,
    );
    child.once("message", (m: { url?: string }) => {
      clearTimeout(timer);
      if (m.url) ok(m.url);
      else fail(new Error(`unexpected message from server: ${JSON.stringify(m)}`));
    });
    child.once("exit", (code) => fail(new Error(`server exited with ${code} before it was ready`)));
  });
}

/** The server's CPU time so far (user + system), in microseconds. */
export function cpuOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.reject(new Error("a server process died during the run"));
  return new Promise((ok) => {
    const onMessage = (m: { cpuMicros?: number }) => {
      if (m.cpuMicros === undefined) return;
      child.off("message", onMessage);
      ok(m.cpuMicros);
    };
    child.on("message", onMessage);
    child.send("cpu");
  });
}

export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      ok();
    });
    child.send("stop");
  });
}
