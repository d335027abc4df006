/**
 * Reads a small file the agent is given (spec.json, the password, the service account's token and CA,
 * a pid file, its own saved state) as untrusted input: a regular file only (a FIFO put in its place
 * would block the read forever), and at most `maxBytes` (a bigger file is not what it should be, and
 * reading it whole could take the agent past its memory limit). One open, so the checks and the read
 * are of the same file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'fs';

/** A ConfigMap's or Secret's whole data is at most 1 MiB: no file the agent is given is bigger. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

/** Thrown for a file that is not a regular file, or is bigger than allowed (an ENOENT and the like are fs's own errors). */
export class UnfitFileError extends Error {}

/** The file's text; throws fs's error, or an UnfitFileError. */
export function readBoundedFile(file: string, maxBytes = MAX_INPUT_FILE_BYTES, encoding: BufferEncoding = 'utf8'): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UnfitFileError(`${file} is not a regular file`);
    if (stat.size > maxBytes) throw new UnfitFileError(`${file} is ${stat.size} bytes, more than the ${maxBytes} it can be`);
    // One byte more than the stat said: a file that grew since is refused, not read in part.
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > stat.size) throw new UnfitFileError(`${file} grew while it was read`);
    return buffer.toString(encoding, 0, length);
  } finally {
    closeSync(fd);
  }
}
