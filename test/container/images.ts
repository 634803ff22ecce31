// Builds the Containerfile without a container registry: the base image is assembled from Debian's packages
// (debootstrap) plus the Node 24 this checkout runs on and the machine's npm, then the Containerfile is built on
// it with `--build-arg BASE=…`. The debootstrap tarball is cached under .cache/container/ (gitignored) and the
// base image stays in the local image store, so only the first run pays for them.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const CACHE_DIR = join(REPO, ".cache", "container");
const SUITE = "bookworm";
const MIRROR = process.env.CLAWGATE_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
const LOCAL_CAS = "/usr/local/share/ca-certificates";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; `check` (the default) turns a non-zero exit into an error with its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { check?: boolean; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const r = { code: code ?? -1, stdout, stderr };
      if (code !== 0 && opts.check !== false) {
        const tail = (stdout + stderr).trim().split("\n").slice(-30).join("\n");
        reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${tail}`));
      } else resolve(r);
    });
  });
}

export function onPath(program: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, program)));
}

/** A minimal Debian with ca-certificates, as a tarball: debootstrap once, then reuse. */
export async function rootfsTarball(): Promise<string> {
  const tarball = join(CACHE_DIR, `${SUITE}-minbase.tar`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(CACHE_DIR, { recursive: true });
  // Outside the checkout, so biome and tsc never walk a root filesystem.
  const dir = mkdtempSync(join(tmpdir(), "clawgate-rootfs-"));
  try {
    await run("debootstrap", ["--variant=minbase", "--include=ca-certificates", SUITE, dir, MIRROR]);
    const partial = `${tarball}.partial`;
    await run("tar", [
      "-C",
      dir,
      "--exclude=./var/cache/apt/archives/*.deb",
      "--exclude=./dev/*",
      "--exclude=./proc/*",
      "--exclude=./sys/*",
      "-cf",
      partial,
      ".",
    ]);
    renameSync(partial, tarball);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tarball;
}

async function imageExists(ref: string): Promise<boolean> {
  return (await run("buildah", ["inspect", "--type", "image", ref], { check: false })).code === 0;
}

function npmDir(): string {
  // The npm that runs on this machine (npm 11 runs on Node 24 as it is).
  const dir = join(realpathSync(process.env.CLAWGATE_TEST_NPM_ROOT ?? "/usr/lib/node_modules"), "npm");
  if (!existsSync(join(dir, "package.json"))) {
    throw new Error(`no npm at ${dir}: set CLAWGATE_TEST_NPM_ROOT to the folder \`npm root -g\` prints`);
  }
  return dir;
}

/**
 * What node:24-slim gives the Containerfile: Debian, Node 24 and npm in /usr/local. Node is the binary running
 * this test (the `node` package's, from the npm registry). The machine's own extra CAs are added: where egress
 * goes through a TLS-inspecting proxy, as here, `npm ci` in the build fails with SELF_SIGNED_CERT_IN_CHAIN
 * without them.
 */
export async function baseImage(): Promise<string> {
  const ref = `localhost/clawgate-test-base:${SUITE}-node${process.versions.node}`;
  if (await imageExists(ref)) return ref;
  const tarball = await rootfsTarball();
  const ctr = (await run("buildah", ["from", "scratch"])).stdout.trim();
  try {
    await run("buildah", ["add", ctr, tarball, "/"]);
    await run("buildah", ["copy", ctr, realpathSync(process.execPath), "/usr/local/bin/node"]);
    await run("buildah", ["copy", ctr, npmDir(), "/usr/local/lib/node_modules/npm"]);
    const cas = existsSync(LOCAL_CAS) && readdirSync(LOCAL_CAS).some((f) => f.endsWith(".crt"));
    if (cas) await run("buildah", ["copy", ctr, LOCAL_CAS, LOCAL_CAS]);
    await run("buildah", [
      "run",
      "--isolation",
      "chroot",
      ctr,
      "--",
      "sh",
      "-c",
      "ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && " +
        "ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && update-ca-certificates",
    ]);
    await run("buildah", [
      "config",
      "--env",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      // Node reads its own CA list, not the system's; npm and the gateway both go through this.
      "--env",
      "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt",
      "--cmd",
      "node",
      ctr,
    ]);
    await run("buildah", ["commit", "--rm", ctr, ref]);
  } catch (err) {
    await run("buildah", ["rm", ctr], { check: false });
    throw err;
  }
  return ref;
}

/** Builds the repository's Containerfile on `base`, in Docker format so HEALTHCHECK is kept. */
export async function buildImage(base: string, tag: string): Promise<RunResult> {
  return run(
    "buildah",
    [
      "bud",
      "--layers",
      "--isolation",
      "chroot",
      "--format",
      "docker",
      "--build-arg",
      `BASE=${base}`,
      "-f",
      "Containerfile",
      "-t",
      tag,
      ".",
    ],
    { cwd: REPO },
  );
}

/**
 * Stands in for docker.io/library/postgres in compose.yaml (POSTGRES_IMAGE): Debian's PostgreSQL on the same
 * base, with an entrypoint that honours the official image's POSTGRES_* variables (postgres-entrypoint.sh).
 */
export async function postgresImage(base: string): Promise<string> {
  const ref = "localhost/clawgate-test-postgres:15";
  if (await imageExists(ref)) return ref;
  const ctr = (await run("buildah", ["from", base])).stdout.trim();
  try {
    await run("buildah", [
      ...["run", "--isolation", "chroot", ctr, "--", "sh", "-c"],
      "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15" +
        " && rm -rf /var/lib/apt/lists/*",
    ]);
    const entrypoint = fileURLToPath(new URL("postgres-entrypoint.sh", import.meta.url));
    await run("buildah", ["copy", "--chmod", "0755", ctr, entrypoint, "/usr/local/bin/docker-entrypoint.sh"]);
    await run("buildah", [
      "config",
      ...[
        "--env",
        "PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ],
      ...["--volume", "/var/lib/postgresql/data", "--stop-signal", "SIGINT", "--port", "5432"],
      ...["--entrypoint", '["/usr/local/bin/docker-entrypoint.sh"]', "--cmd", "", ctr],
    ]);
    await run("buildah", ["commit", "--rm", ctr, ref]);
  } catch (err) {
    await run("buildah", ["rm", ctr], { check: false });
    throw err;
  }
  return ref;
}
