// The host's part: the Node version the code needs, and the data directory (writable, room left).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rm, statfs, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { failed, ok, warn } from "../channels/sdk/doctor.ts";
import type { DoctorCheck } from "../channels/types.ts";

/** Type stripping without a flag (22.18) and node:sqlite without a flag: below this clawgate does not start. */
const MIN_NODE: [number, number] = [22, 18];
const TESTED_MAJOR = 24;
const MiB = 1024 * 1024;

export function nodeVersionCheck(version = process.versions.node): DoctorCheck {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const title = "Node.js version";
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    return failed(
      "node.version",
      title,
      `Node ${version} cannot run clawgate (it needs ${MIN_NODE.join(".")} or later to run TypeScript and node:sqlite without flags)`,
      `install Node ${TESTED_MAJOR} LTS (or run through npm, which puts the pinned node package first on PATH)`,
    );
  }
  if (major < TESTED_MAJOR) {
    return warn(
      "node.version",
      title,
      `Node ${version} works, but clawgate is tested on Node ${TESTED_MAJOR}`,
      `install Node ${TESTED_MAJOR} LTS`,
    );
  }
  return ok("node.version", title, `Node ${version}`);
}

/** Whether the data directory can be written (start creates it when missing), and how much room is left. */
export async function dataDirChecks(dir: string): Promise<DoctorCheck[]> {
  const title = "Data directory";
  // A directory that does not exist yet is created at start: judge the closest one that does.
  let probeDir = dir;
  while (!existsSync(probeDir) && dirname(probeDir) !== probeDir) probeDir = dirname(probeDir);
  const probe = `${probeDir}/.clawgate-doctor-${randomBytes(4).toString("hex")}`;
  try {
    if (probeDir === dir) await writeFile(probe, "");
    else await mkdir(probe);
    await rm(probe, { recursive: true, force: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return [
      failed(
        "datadir.writable",
        title,
        `cannot write to ${dir} (${e.code ?? e.message}${e.code === "ENOTDIR" ? ": a file is in the way" : ""}); the store, media and keys live there`,
        `make ${dir} a directory the clawgate user can write to (mkdir -p, chown), or set dataDir in clawgate.json to one`,
      ),
    ];
  }
  const out = [
    ok("datadir.writable", title, probeDir === dir ? `${dir} is writable` : `${dir} will be created`),
  ];
  try {
    const fs = await statfs(probeDir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    const shown =
      free >= 1024 * MiB ? `${(free / 1024 / MiB).toFixed(1)} GiB` : `${Math.floor(free / MiB)} MiB`;
    const detail = `${shown} free`;
    const fix = `free space on the disk holding ${dir}, or move dataDir to a larger one`;
    if (free < 100 * MiB)
      out.push(
        failed("datadir.space", "Free disk space", `${detail}: the store stops accepting messages`, fix),
      );
    else if (free < 1024 * MiB)
      out.push(
        warn("datadir.space", "Free disk space", `${detail}: media and history will fill it soon`, fix),
      );
    else out.push(ok("datadir.space", "Free disk space", detail));
  } catch (err) {
    out.push({
      id: "datadir.space",
      title: "Free disk space",
      status: "skip",
      detail: (err as Error).message,
    });
  }
  return out;
}
