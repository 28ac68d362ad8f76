// Power-loss-safe file replacement: write a temp file beside the target, fsync it, rename it over the target, fsync the directory.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Permission bits of a newly created file; default 0o644 (before the umask). */
  mode?: number;
}

/** The prefix of this target's temp files: hidden, and named after the target so that leftovers can be found. */
function tempPrefix(file: string): string {
  return `.${basename(file)}.tmp-`;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Replaces `file` with `data` so that after a crash or a power loss at any moment the file holds
 * either its old content or the new one, complete — never a mix or a truncated write:
 * 1. the data goes to a new temp file in the same directory (rename is atomic only within one file system),
 * 2. the temp file is fsynced, so its blocks are on the disk before its name can point at them
 *    (ext4's auto_da_alloc covers rename-over only in some modes; we do not rely on it),
 * 3. rename(2) replaces the target in one step,
 * 4. the directory is fsynced, so the rename itself survives a power loss.
 * The temp file is removed when a step fails; one left by a killed process is removed by
 * removeStaleTempFiles(). Concurrent calls for the same file are the caller's to serialize: the
 * last rename wins, but each is atomic.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `${tempPrefix(file)}${process.pid}-${randomBytes(4).toString('hex')}`);
  let renamed = false;
  try {
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    renamed = true;
    await syncDirectory(dir);
  } catch (err) {
    if (!renamed) await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** fsync(2) on a directory makes the entries created, renamed or removed in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (err) {
    // Some file systems (and non-Linux systems) refuse to open a directory for reading; nothing more can be done there.
    if (errnoCode(err) === 'EISDIR' || errnoCode(err) === 'EPERM') return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    // EINVAL: the file system does not support fsync on directories (some FUSE and network file systems).
    if (errnoCode(err) !== 'EINVAL') throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Removes the temp files a killed writer of `file` left behind; returns their names. Call it only
 * while no writeFileAtomic() of this file is running (at start, before the first write).
 */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = dirname(file);
  const prefix = tempPrefix(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }
  return removed;
}
