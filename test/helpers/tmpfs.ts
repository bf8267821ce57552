/**
 * Small file systems for fault tests: a size-capped tmpfs (a disk that fills up) and a read-only directory. Mounting
 * needs root; where it is refused the helpers return the reason instead, so a test can skip visibly with it.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A mounted tmpfs, or why none could be mounted. */
export type Mounted = { dir: string; remount(options: string): void; unmount(): void } | { skip: string };

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) return r.error.message;
  return r.status === 0 ? null : (r.stderr || r.stdout || `exit ${r.status}`).trim();
}

/** Mounts a tmpfs with `options` (e.g. `size=2m`) on a fresh temporary directory. */
export function mountTmpfs(options: string): Mounted {
  const dir = mkdtempSync(join(tmpdir(), "ib-tmpfs-"));
  if (process.platform !== "linux") return { skip: "tmpfs mounts need Linux" };
  const failed = run("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (failed !== null) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here (${failed})` };
  }
  return {
    dir,
    remount(opts) {
      const error = run("mount", ["-o", `remount,${opts}`, dir]);
      if (error !== null) throw new Error(`remount ${dir} ${opts}: ${error}`);
    },
    unmount() {
      run("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A directory this process cannot write to: mode 0555 for an ordinary user, a read-only tmpfs for root (which the
 * mode bits do not stop).
 */
export function readOnlyDir(): Mounted {
  if (process.getuid?.() !== 0) {
    const dir = mkdtempSync(join(tmpdir(), "ib-readonly-"));
    chmodSync(dir, 0o555);
    return {
      dir,
      remount() {
        throw new Error("not a mount");
      },
      unmount() {
        chmodSync(dir, 0o755);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  return mountTmpfs("ro,size=64k");
}
