/**
 * Replaces a file so that readers see the old content or the new, never a part: keepalived may be
 * reloading the file while the agent writes it, and a crash mid-write must not leave a broken config.
 */
import { randomBytes } from 'crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'fs';
import { basename, dirname, join } from 'path';

/**
 * Writes `content` to a temporary file next to `path`, fsyncs it, renames it over `path` and fsyncs the
 * directory. On failure the temporary file is removed and `path` is untouched.
 * @param mode the new file's permissions (keepalived.conf may hold the auth password).
 * @param durable fsync the file and the directory, so that the new content survives a crash of the
 *   node; without it the replacement is still atomic for readers (health-check track files, which a
 *   fresh pod recreates anyway, skip the fsyncs, which take tens of ms on a busy disk).
 */
export function writeFileAtomic(path: string, content: string, mode = 0o600, durable = true): void {
  const dir = dirname(path);
  // A random suffix: container PIDs repeat across restarts, and a crashed run may have left its file.
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    try {
      writeFileSync(fd, content); // loops until every byte is written
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      // Already gone (renamed or never written): nothing to clean up.
    }
    throw e;
  }
  if (durable) syncDirectory(dir);
}

/** Makes the rename durable; some file systems cannot fsync a directory, which costs only durability. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
