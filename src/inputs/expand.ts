/**
 * The files a trace/log analysis reads, from the paths given: files, capture folders (one level)
 * and capture archives (tar, plain or gzipped, entries maybe gzipped), each with its role told
 * by sniff.ts and, for traces, its first bytes (which events it holds).
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileChunks, gunzipPrefix, isGzip, readHead } from '../io/chunks';
import { readTar } from '../io/tar';
import { InputFormatError } from '../io/textCheck';
import { traceDatHead } from '../io/traceDat';
import { type InputRole, sniff } from './sniff';

export const HEAD_BYTES = 256 * 1024;

export interface InputFile {
  /** What messages call it: the path, or "archive.tar.gz:trace.txt". */
  readonly label: string;
  readonly file: string;
  /** Entry name inside a tar archive. */
  readonly entry?: string;
  /** Where the entry's bytes start in the (decompressed) archive: it is read from there. */
  readonly entryOffset?: number;
  readonly tarGz?: boolean;
  /** Raw bytes on disk (for progress). */
  readonly bytes: number;
  role: InputRole;
  /** How its lines are read (sniff.ts); absent: text. */
  format?: string;
  lines: number;
  /** Why a member of a folder or archive was not read (not text). */
  skipped?: string;
  /** The file is gzip-compressed (a binary trace read at offsets cannot be). */
  gz?: boolean;
  /** The beginning of a trace (to see which events it holds). */
  head?: Buffer;
  /** sha256 of the first 64 KiB (decompressed), taken when the head was read: duplicates are told by it. */
  headHash?: string;
  /** Not read: its (decompressed) content is that of this file, read instead (dmesg.txt beside dmesg.txt.gz). */
  duplicateOf?: string;
}

/** Expands paths: files, folders (one level), tar archives. */
export async function expandText(paths: readonly string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const p of paths) {
    const st = await stat(p);
    if (st.isDirectory()) {
      const names = (await readdir(p)).sort();
      // a few members at a time: each is a handful of small file system calls, whose round trips
      // through the thread pool overlap (a folder of 10,000 small files)
      for (let i = 0; i < names.length; i += MEMBERS_AT_ONCE) {
        const group = names.slice(i, i + MEMBERS_AT_ONCE).map((n) => expandMember(path.join(p, n)));
        for (const files of await Promise.all(group)) out.push(...files);
      }
    } else {
      const files = await expandFile(p, st.size);
      // a file given by name that is not text is refused (in a folder or archive it is skipped)
      const skipped = files.length === 1 ? files[0]?.skipped : undefined;
      if (skipped) throw new InputFormatError(p, skipped);
      out.push(...files);
    }
  }
  await dropDuplicates(out);
  return out;
}

/** Folder members expanded at once. */
const MEMBERS_AT_ONCE = 16;

/**
 * A folder's member: its inputs, or none (not a file). One that cannot be read (a symlink loop, a
 * dangling link, no permission) is skipped with a diagnostic naming it; the rest of the folder is analysed.
 */
async function expandMember(f: string): Promise<InputFile[]> {
  try {
    const s = await stat(f);
    return s.isFile() ? await expandFile(f, s.size) : [];
  } catch (e) {
    const why = unreadable(e);
    if (why === undefined) throw e;
    return [skippedFile(f, why)];
  }
}

/** The decompressed size of a file mod 2^32: a gzip file's last four bytes (ISIZE), else its size. */
async function sizeKey(f: InputFile): Promise<number> {
  if (!f.gz) return f.bytes % 2 ** 32;
  const fh = await open(f.file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, Math.max(0, f.bytes - 4));
    return b.readUInt32LE(0);
  } finally {
    await fh.close();
  }
}

/** Bytes of a file's beginning whose hash tells duplicates apart before their whole content is hashed. */
const DUP_HEAD_BYTES = 64 * 1024;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function contentHash(f: InputFile): Promise<string> {
  // a plain file no longer than the hashed head: that hash is of its whole content
  if (!f.gz && f.headHash !== undefined && f.bytes <= DUP_HEAD_BYTES) return f.headHash;
  const h = createHash('sha256');
  try {
    for await (const c of fileChunks(f.file)) h.update(c);
  } catch {
    return `unreadable:${f.file}`; // damaged: compared by name only, so never a duplicate
  }
  return h.digest('hex');
}

/**
 * Files of the same content read once: a capture folder after `gunzip -k` holds dmesg.txt beside
 * dmesg.txt.gz, and both would be counted. Only files whose decompressed sizes and first 64 KiB
 * agree are hashed whole;
 * the first (the plain one: names sort before their .gz) is read, the others are marked.
 */
async function dropDuplicates(files: InputFile[]): Promise<void> {
  const bySize = new Map<string, InputFile[]>();
  for (const f of files) {
    if (f.entry !== undefined || f.skipped || f.role === 'ignore') continue;
    const key = `${f.role}:${await sizeKey(f)}`;
    const group = bySize.get(key);
    if (group) group.push(f);
    else bySize.set(key, [f]);
  }
  // then by their first 64 KiB (two big traces of one size are told apart without reading them whole)
  const byHead = new Map<string, InputFile[]>();
  for (const [key, group] of bySize) {
    if (group.length < 2) continue;
    for (const f of group) {
      const k = `${key}:${f.headHash ?? sha256((await readHead(f.file, DUP_HEAD_BYTES)).head)}`;
      const g = byHead.get(k);
      if (g) g.push(f);
      else byHead.set(k, [f]);
    }
  }
  for (const group of byHead.values()) {
    if (group.length < 2) continue;
    const seen = new Map<string, InputFile>();
    for (const f of group) {
      const h = await contentHash(f);
      const first = seen.get(h);
      if (!first) {
        seen.set(h, f);
        continue;
      }
      f.duplicateOf = first.label;
      f.role = 'ignore';
      f.skipped = `the same content as ${first.label}: read once, from there`;
      delete f.head;
    }
  }
}

/** Why a file system error leaves a file unread, or undefined when it is not one of those. */
function unreadable(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'too many levels of symbolic links (a symlink loop?): not read';
  if (code === 'ENOENT') return 'a dangling symbolic link (or removed while read): not read';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: not read';
  if (code === 'ENAMETOOLONG') return 'the name is too long to open: not read';
  return undefined;
}

function skippedFile(file: string, why: string): InputFile {
  return { label: file, file, bytes: 0, role: 'ignore', lines: 0, skipped: why };
}

function inputFile(
  label: string,
  file: string,
  bytes: number,
  head: Buffer,
  inArchive: boolean,
  entry?: string,
  tarGz?: boolean,
  entryOffset?: number,
): InputFile {
  const s = sniff({ name: label, bytes: head, whole: head.length < HEAD_BYTES }, inArchive);
  const role = s.role ?? 'log';
  return {
    label,
    file,
    ...(entry !== undefined ? { entry, tarGz: tarGz ?? false } : {}),
    ...(entryOffset !== undefined ? { entryOffset } : {}),
    bytes,
    role,
    ...(s.format ? { format: s.format } : {}),
    lines: 0,
    ...(role === 'trace' ? { head } : {}),
    ...(s.refused ? { skipped: s.refused } : {}),
  };
}

async function expandFile(file: string, bytes: number): Promise<InputFile[]> {
  const { head, gz } = await readHead(file, HEAD_BYTES);
  if (sniff({ name: file, bytes: head, whole: head.length < HEAD_BYTES }).kind !== 'capture-archive') {
    const f = inputFile(file, file, bytes, head, false);
    // a binary trace: the head that tells which events it holds is the beginning of its text
    if (f.format === 'trace.dat' && !gz) f.head = await traceDatHead(file, HEAD_BYTES);
    if (gz) f.gz = true;
    f.headHash = sha256(head.subarray(0, DUP_HEAD_BYTES));
    return [f];
  }
  // the entries' heads and roles come from one pass over the archive
  const entries: InputFile[] = [];
  await readTar(fileChunks(file), (name, size, offset) => {
    if (path.basename(name).startsWith('.')) return null;
    const parts: Buffer[] = [];
    let n = 0;
    return {
      data(c) {
        if (n < HEAD_BYTES) {
          parts.push(Buffer.from(c.subarray(0, HEAD_BYTES - n)));
          n += Math.min(c.length, HEAD_BYTES - n);
        }
      },
      end() {
        let h: Buffer = Buffer.concat(parts);
        // an entry that is itself gzipped: look at its decompressed beginning
        if (isGzip(h)) h = gunzipPrefix(h) as typeof h;
        entries.push(inputFile(`${file}:${name}`, file, size, h, true, name, gz, offset));
      },
    };
  });
  return entries;
}
