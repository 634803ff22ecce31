// The container recipe, built and run as a self-hoster would: the Containerfile built with buildah on a Debian
// base (no registry is needed: see images.ts), then the image run with podman: a non-root process, /readyz and
// the image's HEALTHCHECK, a web chat message answered by the fake agent, reload inside the container and by
// SIGHUP, `clawgate restart` and `clawgate stop` through the admin API, a clean stop on SIGTERM, the data in the
// volume surviving a new container, PostgreSQL through CLAWGATE_DATABASE_URL, and compose.yaml brought up with
// podman-compose. Slow (minutes on a first run, about one after), so it runs only when asked.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { waitFor } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { baseImage, buildImage, onPath, postgresImage, REPO, type RunResult, run } from "./images.ts";

const reasons: string[] = [];
if (process.env.CLAWGATE_TEST_CONTAINER !== "1") {
  reasons.push("set CLAWGATE_TEST_CONTAINER=1 to build and run the container image (it takes minutes)");
}
for (const program of ["buildah", "debootstrap"]) {
  if (!onPath(program)) reasons.push(`${program} is not on the PATH (apt-get install ${program})`);
}
if (process.getuid?.() !== 0) reasons.push("debootstrap and buildah run as root here; run the test as root");
const skipAll = reasons.length > 0 ? reasons.join("; ") : false;
const skipRun =
  skipAll || (onPath("podman") ? false : "podman is not on the PATH: the image is built but not run");
const skipCompose = skipRun || (onPath("podman-compose") ? false : "podman-compose is not on the PATH");
if (skipAll) console.log(`# container test skipped: ${skipAll}`);
else if (skipRun) console.log(`# container run skipped: ${skipRun}`);
else if (skipCompose) console.log(`# compose run skipped: ${skipCompose}`);

const SLOW = 30 * 60_000;
const TAG = "localhost/clawgate-test:latest";
const RUN_ID = `clawgate-ctr-${process.pid}`;
const VOLUME = `${RUN_ID}-data`;
const HELLO = "hello from a container";

// This machine's crun refuses its cgroup layout ("hybrid mode"); runc works. Any runtime does elsewhere.
const RUNTIME = process.env.CLAWGATE_TEST_OCI_RUNTIME ?? (onPath("runc") ? "runc" : undefined);

function podman(args: string[], opts: { check?: boolean } = {}): Promise<RunResult> {
  return run("podman", [...(RUNTIME ? ["--runtime", RUNTIME] : []), ...args], opts);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Message {
  role: string;
  content: string;
}

describe("container image", { skip: skipAll }, () => {
  let built: RunResult;
  let base: string;
  before(
    async () => {
      base = await baseImage();
      built = await buildImage(base, TAG);
    },
    { timeout: SLOW },
  );

  it("is built from the Containerfile with the health check, stop signal, user and volume it declares", async () => {
    assert.match(built.stdout + built.stderr, /Successfully tagged localhost\/clawgate-test:latest/);
    const config = JSON.parse((await run("buildah", ["inspect", "--type", "image", TAG])).stdout).Docker
      .config;
    assert.equal(config.User, "clawgate");
    assert.equal(config.StopSignal, "SIGTERM");
    assert.deepEqual(Object.keys(config.Volumes), ["/data"]);
    assert.deepEqual(Object.keys(config.ExposedPorts), ["8787/tcp"]);
    assert.equal(config.WorkingDir, "/data");
    assert.deepEqual(config.Entrypoint, ["node", "/app/bin/clawgate.js"]);
    assert.deepEqual(config.Cmd, ["start"]);
    assert.equal(config.Healthcheck.Test[0], "CMD");
    assert.match(config.Healthcheck.Test.at(-1), /\/readyz/);
  });

  describe("running", { skip: skipRun }, () => {
    let agent: FakeAgent;
    let port: number;
    let db: TestDatabase | undefined;
    const names: string[] = [];
    const url = (path: string) => `http://127.0.0.1:${port}${path}`;

    /** Starts the image detached with the volume at /data; resolves once /readyz answers 200. */
    const start = async (name: string, env: Record<string, string> = {}) => {
      names.push(name);
      const envArgs = Object.entries({
        CLAWGATE_PORT: String(port),
        OCG_AGENT_URL: agent.url,
        ...env,
      }).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
      // Host networking: the container reaches the fake agent on 127.0.0.1 and the test reaches the gateway
      // there, as a loopback caller (no web chat token needed). The sandbox this was written on refuses to
      // raise RLIMIT_NPROC, which podman does by default, so the limits are given explicitly.
      await podman([
        ...["run", "-d", "--name", name, "--network", "host"],
        ...["--ulimit", "nofile=8192:8192", "--ulimit", "nproc=4096:4096"],
        ...["-v", `${VOLUME}:/data`, ...envArgs, TAG],
      ]);
      return waitFor(
        async () => {
          const r = await fetch(url("/readyz")).catch(() => undefined);
          return r?.status === 200 ? ((await r.json()) as { ok: boolean; store: string }) : undefined;
        },
        60_000,
        `${name} to answer /readyz with 200`,
      );
    };
    const logs = async (name: string) => {
      const r = await podman(["logs", name]);
      return r.stdout + r.stderr;
    };
    const send = async (thread: string, text: string, clientMessageId: string) => {
      const r = await fetch(url(`/api/threads/${thread}/messages`), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text, clientMessageId }),
      });
      assert.equal(r.status, 202);
    };
    const history = async (thread: string) => {
      const r = await fetch(url(`/api/threads/${thread}/messages`));
      return ((await r.json()) as { messages: Message[] }).messages.map((m) => [m.role, m.content]);
    };

    before(async () => {
      agent = await new FakeAgent().start();
      port = await freePort();
      await podman(["volume", "create", VOLUME]);
      const ready = await start(`${RUN_ID}-1`);
      assert.deepEqual(ready, { ok: true, store: "sqlite" });
    });

    after(async () => {
      for (const name of names) await podman(["rm", "-f", "-t", "0", name], { check: false });
      await podman(["volume", "rm", "-f", VOLUME], { check: false });
      await agent?.stop();
      await db?.drop();
    });

    it("runs the gateway as the unprivileged user clawgate (uid and gid 10001), not root", async () => {
      const status = (await podman(["exec", `${RUN_ID}-1`, "cat", "/proc/1/status"])).stdout;
      assert.match(status, /^Uid:\t10001\t10001\t10001\t10001$/m);
      assert.match(status, /^Gid:\t10001\t10001\t10001\t10001$/m);
      assert.match(status, /^CapEff:\t0000000000000000$/m);
      const cmdline = (await podman(["exec", `${RUN_ID}-1`, "cat", "/proc/1/cmdline"])).stdout;
      assert.equal(cmdline, "node\0/app/bin/clawgate.js\0start\0");
    });

    it("answers /readyz with 200 and passes the image's HEALTHCHECK", async () => {
      const r = await fetch(url("/readyz"));
      assert.equal(r.status, 200);
      assert.equal(await r.text(), '{"ok":true,"store":"sqlite"}');
      const hc = await podman(["healthcheck", "run", `${RUN_ID}-1`], { check: false });
      assert.equal(hc.code, 0, `healthcheck failed: ${hc.stdout}${hc.stderr}`);
    });

    it("answers a web chat message with the agent's reply", async () => {
      await send("ctr-thread", HELLO, "ctr-message-0001");
      const messages = await waitFor(
        async () => {
          const m = await history("ctr-thread");
          return m.length === 2 ? m : undefined;
        },
        30_000,
        "the agent's reply in the thread",
      );
      assert.deepEqual(messages, [
        ["user", HELLO],
        ["assistant", `echo: ${HELLO}`],
      ]);
    });

    it("re-reads its configuration on `clawgate reload` inside the container and on SIGHUP", async () => {
      const name = `${RUN_ID}-1`;
      const reload = await podman(["exec", name, "clawgate", "reload"]);
      assert.equal(reload.stdout, "No channel changed.\n");
      await podman(["kill", "--signal", "HUP", name]);
      await waitFor(
        async () => (await logs(name)).match(/"msg":"configuration reloaded"/g)?.length === 2,
        20_000,
        "a second 'configuration reloaded' in the log",
      );
    });

    it("restarts in place on `clawgate restart` inside the container", async () => {
      const name = `${RUN_ID}-1`;
      const restart = await podman(["exec", name, "clawgate", "restart"]);
      assert.equal(restart.stdout, "The gateway is restarting.\n");
      await waitFor(
        async () => (await logs(name)).match(/"msg":"clawgate is ready"/g)?.length === 2,
        30_000,
        "a second 'clawgate is ready' in the log",
      );
      assert.equal((await fetch(url("/readyz"))).status, 200);
      assert.equal(
        (await podman(["inspect", "--format", "{{.State.Status}}", name])).stdout.trim(),
        "running",
      );
    });

    it("stops cleanly on SIGTERM and keeps its data in the volume for the next container", async () => {
      const name = `${RUN_ID}-1`;
      await podman(["stop", "-t", "40", name]);
      assert.equal((await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).stdout.trim(), "0");
      assert.match(await logs(name), /"reason":"SIGTERM","msg":"stopping"/);

      const mountpoint = (
        await podman(["volume", "inspect", "--format", "{{.Mountpoint}}", VOLUME])
      ).stdout.trim();
      const dbFile = statSync(join(mountpoint, "clawgate.db"));
      assert.equal(dbFile.uid, 10001);

      await start(`${RUN_ID}-2`);
      assert.deepEqual(await history("ctr-thread"), [
        ["user", HELLO],
        ["assistant", `echo: ${HELLO}`],
      ]);
      await podman(["stop", "-t", "40", `${RUN_ID}-2`]);
    });

    it("runs on PostgreSQL given CLAWGATE_DATABASE_URL, as compose.yaml sets it", async () => {
      db = await createTestDatabase("clawgate_ctr");
      const ready = await start(`${RUN_ID}-pg`, { CLAWGATE_DATABASE_URL: db.url });
      assert.deepEqual(ready, { ok: true, store: "postgres" });
      await send("ctr-pg-thread", "hello postgres", "ctr-message-0002");
      const messages = await waitFor(
        async () => {
          const m = await history("ctr-pg-thread");
          return m.length === 2 ? m : undefined;
        },
        30_000,
        "the agent's reply in the PostgreSQL thread",
      );
      assert.deepEqual(messages, [
        ["user", "hello postgres"],
        ["assistant", "echo: hello postgres"],
      ]);
      // `clawgate stop` asks the running gateway to drain and exit: the container ends with it, cleanly. The exec
      // session itself is killed when the container ends (137), often before the CLI has printed its answer.
      const stop = await podman(["exec", `${RUN_ID}-pg`, "clawgate", "stop"], { check: false });
      if (stop.code === 0) assert.equal(stop.stdout, "The gateway is stopping.\n");
      else assert.equal(stop.code, 137, `clawgate stop failed: ${stop.stdout}${stop.stderr}`);
      await podman(["wait", `${RUN_ID}-pg`]);
      assert.equal(
        (await podman(["inspect", "--format", "{{.State.ExitCode}}", `${RUN_ID}-pg`])).stdout.trim(),
        "0",
      );
      assert.match(await logs(`${RUN_ID}-pg`), /"reason":"clawgate stop","msg":"stopping"/);
    });
  });

  describe("compose.yaml", { skip: skipCompose }, () => {
    const project = `${RUN_ID}-compose`.replaceAll("-", "_");
    let agent: FakeAgent;
    let forwarder: Server;
    let port: number;
    let confDir: string;
    let env: NodeJS.ProcessEnv;
    const WEBCHAT_TOKEN = "compose-webchat-token-0123";
    const compose = (...args: string[]) =>
      run("podman-compose", ["-p", project, "-f", "compose.yaml", ...args], { cwd: REPO, env });

    before(
      async () => {
        const pg = await postgresImage(base);
        agent = await new FakeAgent().start();
        // The agent as the containers see it: on the host, through the compose network's gateway.
        const agentPort = Number(new URL(agent.url).port);
        forwarder = createServer((s) => {
          const t = connect(agentPort, "127.0.0.1");
          s.pipe(t).pipe(s);
          s.on("error", () => t.destroy());
          t.on("error", () => s.destroy());
        });
        await new Promise<void>((r) => forwarder.listen(0, "0.0.0.0", r));
        const forwardPort = (forwarder.address() as { port: number }).port;
        port = await freePort();
        // Made here so its gateway address is known: Podman 4 has no "host-gateway" for extra_hosts.
        await podman(["network", "create", `${project}_default`]);
        const gateway = (
          await podman([
            "network",
            "inspect",
            "--format",
            "{{range .Subnets}}{{.Gateway}}{{end}}",
            `${project}_default`,
          ])
        ).stdout.trim();
        // What the test passes to `podman` above as flags, podman-compose's podman reads from containers.conf.
        confDir = mkdtempSync(join(tmpdir(), "clawgate-compose-"));
        writeFileSync(
          join(confDir, "containers.conf"),
          `[containers]\ndefault_ulimits = ["nofile=8192:8192", "nproc=4096:4096"]\n` +
            (RUNTIME ? `[engine]\nruntime = "${RUNTIME}"\n` : ""),
        );
        env = {
          ...process.env,
          CONTAINERS_CONF: join(confDir, "containers.conf"),
          POSTGRES_IMAGE: pg,
          POSTGRES_PASSWORD: "compose-db-password",
          CLAWGATE_IMAGE: TAG,
          CLAWGATE_WEBCHAT_TOKEN: WEBCHAT_TOKEN,
          CLAWGATE_ADMIN_TOKEN: "compose-admin-token-0123",
          CLAWGATE_PUBLISHED_PORT: String(port),
          OCG_AGENT_URL: `http://host.docker.internal:${forwardPort}/v1/chat/completions`,
          HOST_GATEWAY: gateway,
        };
        await compose("up", "-d");
      },
      { timeout: SLOW },
    );

    after(async () => {
      if (env) await compose("down", "-v", "-t", "5").catch(() => {});
      await podman(["network", "rm", "-f", `${project}_default`], { check: false });
      forwarder?.close();
      await agent?.stop();
      if (confDir) rmSync(confDir, { recursive: true, force: true });
    });

    it("starts clawgate on the PostgreSQL service and answers the web chat on the published port", async () => {
      const url = (path: string) => `http://127.0.0.1:${port}${path}`;
      const ready = await waitFor(
        async () => {
          const r = await fetch(url("/readyz")).catch(() => undefined);
          return r?.status === 200 ? await r.text() : undefined;
        },
        120_000,
        "clawgate from compose to answer /readyz with 200",
      );
      assert.equal(ready, '{"ok":true,"store":"postgres"}');
      for (const service of ["postgres", "clawgate"]) {
        const hc = await podman(["healthcheck", "run", `${project}_${service}_1`], { check: false });
        assert.equal(hc.code, 0, `${service} health check failed: ${hc.stdout}${hc.stderr}`);
      }

      const post = (headers: Record<string, string>) =>
        fetch(url("/api/threads/compose-thread/messages"), {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ text: "hello compose", clientMessageId: "compose-message-0001" }),
        });
      // Through a published port the caller is not loopback: the token is required.
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: `Bearer ${WEBCHAT_TOKEN}` })).status, 202);
      const messages = await waitFor(
        async () => {
          const r = await fetch(url("/api/threads/compose-thread/messages"), {
            headers: { authorization: `Bearer ${WEBCHAT_TOKEN}` },
          });
          const m = ((await r.json()) as { messages: Message[] }).messages.map((x) => [x.role, x.content]);
          return m.length === 2 ? m : undefined;
        },
        30_000,
        "the agent's reply through compose",
      );
      assert.deepEqual(messages, [
        ["user", "hello compose"],
        ["assistant", "echo: hello compose"],
      ]);
    });
  });
});
