// File-descriptor syscalls: read/write (and the vector and positional variants), lseek and
// _llseek, close, dup/dup2/dup3, pipe/pipe2. Semantics follow fs/read_write.c, fs/file.c and
// fs/pipe.c: descriptor and mode checks first (-EBADF), then access_ok() and the copies (-EFAULT).

import { err, get, put, le, rdLe, NotModelled, type SyscallImpl, type SysCtx } from './types.js';
import { NOFILE, PIPE_SIZE, pipePair, type OpenFile } from '../process.js';
import { TASK_SIZE_MAX } from '../mm.js';
import { ERRNO, SIGNALS } from '../../../abi/constants.js';
import { signalPending } from '../restart.js';

/** MAX_RW_COUNT = INT_MAX & PAGE_MASK (include/linux/fs.h): larger counts are clamped. */
const MAX_RW_COUNT = 0x7ffff000n;
const UIO_MAXIOV = 1024n;
const SEEK_MAX = 4n;
const O_NONBLOCK = 0x800n;
const O_CLOEXEC = 0x80000n;
const O_DIRECT = 0x4000n;
/** O_NOTIFICATION_PIPE = O_EXCL (include/uapi/linux/watch_queue.h), CONFIG_WATCH_QUEUE=y. */
const O_NOTIFICATION_PIPE = 0x80n;

/** Thrown when the call would sleep forever in the sim (empty pipe, full pipe). */
export class WouldBlock extends Error {}

function fdFile(c: SysCtx, fd: bigint): OpenFile | undefined {
  return c.p.fd(BigInt.asUintN(32, fd))?.file;
}

/** access_ok(): the range lies in the user half (arch/x86/include/asm/uaccess_64.h). */
function accessOk(addr: bigint, len: bigint): boolean {
  return addr >= 0n && len >= 0n && addr + len <= TASK_SIZE_MAX;
}

/** Move up to n bytes from the file to user memory; returns bytes done or -EFAULT. */
function readInto(c: SysCtx, f: OpenFile, buf: bigint, n: bigint, pos: bigint | null): bigint {
  if (n === 0n) return 0n;
  if (f.kind === 'null') return 0n; // read_null (drivers/char/mem.c) copies nothing
  if (f.kind === 'pipe') {
    const p = f.pipe!;
    if (p.buf.length === 0) {
      if (p.writers === 0) return 0n;
      if (f.nonblock) return err('EAGAIN');
      // pipe_read: wait_event_interruptible_exclusive() < 0 → -ERESTARTSYS, i.e. a pending
      // signal ends the wait; the exit path restarts the read only without a handler or with
      // SA_RESTART (sim/kernel/restart.ts).
      if (signalPending(c.p)) {
        c.note('pipe_read: empty pipe and a signal is pending → -ERESTARTSYS');
        return -BigInt(ERRNO.ERESTARTSYS);
      }
      throw new WouldBlock('read from an empty pipe whose write end is open would block');
    }
    const want = Number(n < BigInt(p.buf.length) ? n : BigInt(p.buf.length));
    const span = c.p.mm.userWritableSpan(buf, want);
    if (span === 0) return err('EFAULT');
    put(c, buf, Uint8Array.from(p.buf.slice(0, span)));
    p.buf.splice(0, span);
    return BigInt(span);
  }
  const d = f.data!;
  const at = pos ?? f.pos;
  if (at >= BigInt(d.size)) return 0n;
  const avail = BigInt(d.size) - at;
  const want = Number(n < avail ? n : avail);
  const span = c.p.mm.userWritableSpan(buf, want);
  if (span === 0) return err('EFAULT');
  put(c, buf, d.bytes.subarray(Number(at), Number(at) + span));
  if (pos === null) f.pos += BigInt(span);
  return BigInt(span);
}

function writeFrom(c: SysCtx, f: OpenFile, buf: bigint, n: bigint, pos: bigint | null): bigint {
  if (n === 0n) return 0n;
  if (f.kind === 'null') return n; // write_null reports everything written, reads nothing
  const span = c.p.mm.userReadableSpan(buf, Number(n > 1n << 30n ? 1n << 30n : n));
  if (span === 0) return err('EFAULT');
  const bytes = c.p.mm.copyFromUser(buf, span)!;
  if (f.kind === 'pipe') {
    const p = f.pipe!;
    if (p.readers === 0) {
      // pipe_write: no reader → SIGPIPE to the writer and -EPIPE (fs/pipe.c).
      c.p.pending.push(SIGNALS.SIGPIPE);
      return err('EPIPE');
    }
    const room = PIPE_SIZE - p.buf.length;
    if (room <= 0) {
      if (f.nonblock) return err('EAGAIN');
      // pipe_write: "if (signal_pending(current)) { if (!ret) ret = -ERESTARTSYS; break; }".
      if (signalPending(c.p)) {
        c.note('pipe_write: full pipe and a signal is pending → -ERESTARTSYS');
        return -BigInt(ERRNO.ERESTARTSYS);
      }
      throw new WouldBlock('write to a full pipe would block');
    }
    const k = Math.min(room, span);
    for (let i = 0; i < k; i++) p.buf.push(bytes[i]!);
    return BigInt(k);
  }
  const d = f.data!;
  const at = Number(pos ?? f.pos);
  if (at + span > 1 << 26) throw new NotModelled('file writes beyond 64 MiB');
  if (at + span > d.bytes.length) {
    const nb = new Uint8Array(Math.max(at + span, d.bytes.length * 2));
    nb.set(d.bytes);
    d.bytes = nb;
  }
  d.bytes.set(bytes, at);
  d.size = Math.max(d.size, at + span);
  if (pos === null) f.pos += BigInt(span);
  return BigInt(span);
}

/** vfs_read / vfs_write front half: mode, access_ok, clamp. */
function rw(c: SysCtx, dir: 'r' | 'w', fd: bigint, buf: bigint, count: bigint, pos: bigint | null): bigint {
  const f = fdFile(c, fd);
  if (!f) return err('EBADF');
  if (pos !== null && !f.seekable) return err('ESPIPE');
  if (dir === 'r' ? !f.read : !f.write) return err('EBADF');
  if (!accessOk(buf, count)) return err('EFAULT');
  const n = count > MAX_RW_COUNT ? MAX_RW_COUNT : count;
  return dir === 'r' ? readInto(c, f, buf, n, pos) : writeFrom(c, f, buf, n, pos);
}

/** import_iovec: count check, copy of the array, negative lengths (lib/iov_iter.c). */
function importIovec(c: SysCtx, vec: bigint, vlen: bigint): { base: bigint; len: bigint }[] | bigint {
  if (vlen === 0n) return [];
  if (vlen > UIO_MAXIOV) return err('EINVAL');
  const sz = c.compat ? 8 : 16;
  const raw = get(c, vec, Number(vlen) * sz);
  if (!raw) return err('EFAULT');
  const out: { base: bigint; len: bigint }[] = [];
  let total = 0n;
  for (let i = 0; i < Number(vlen); i++) {
    const h = sz / 2;
    const base = rdLe(raw, i * sz, h);
    const len = BigInt.asIntN(h * 8, rdLe(raw, i * sz + h, h));
    if (len < 0n) return err('EINVAL');
    const room = MAX_RW_COUNT - total;
    const l = len > room ? room : len;
    if (!accessOk(base, l)) return err('EFAULT');
    out.push({ base, len: l });
    total += l;
  }
  return out;
}

function rwv(c: SysCtx, dir: 'r' | 'w', fd: bigint, vec: bigint, vlen: bigint, pos: bigint | null): bigint {
  const f = fdFile(c, fd);
  if (!f) return err('EBADF');
  if (pos !== null && !f.seekable) return err('ESPIPE');
  if (dir === 'r' ? !f.read : !f.write) return err('EBADF');
  const iov = importIovec(c, vec, vlen);
  if (typeof iov === 'bigint') return iov;
  let done = 0n;
  for (const seg of iov) {
    if (seg.len === 0n) continue;
    const at = pos === null ? null : pos + done;
    const r = dir === 'r' ? readInto(c, f, seg.base, seg.len, at) : writeFrom(c, f, seg.base, seg.len, at);
    if (r < 0n) return done > 0n ? done : r;
    done += r;
    if (r < seg.len) break;
  }
  return done;
}

/** vfs_llseek on the three kinds of file the sim has. */
function seek(f: OpenFile, off: bigint, whence: bigint): bigint {
  if (!f.seekable) return err('ESPIPE'); // pipes: no_llseek
  if (whence > SEEK_MAX) return err('EINVAL');
  if (f.kind === 'null') return (f.pos = 0n); // null_lseek always lands at 0
  const size = BigInt(f.data!.size);
  let np: bigint;
  switch (whence) {
    case 0n: np = off; break;
    case 1n: np = f.pos + off; break;
    case 2n: np = size + off; break;
    case 3n: // SEEK_DATA
      if (off < 0n || off >= size) return err('ENXIO');
      np = off;
      break;
    default: // SEEK_HOLE
      if (off < 0n || off >= size) return err('ENXIO');
      np = size;
  }
  if (np < 0n) return err('EINVAL');
  return (f.pos = np);
}

function doPipe(c: SysCtx, fds: bigint, flags: bigint): bigint {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) !== 0n) return err('EINVAL');
  if (flags & O_NOTIFICATION_PIPE) throw new NotModelled('pipe2(O_NOTIFICATION_PIPE)');
  const r = c.p.lowestFree();
  if (r < 0) return err('EMFILE');
  const { r: rf, w: wf } = pipePair(new Uint8Array(0), (flags & O_NONBLOCK) !== 0n);
  c.p.install(r, rf, (flags & O_CLOEXEC) !== 0n);
  const w = c.p.lowestFree();
  if (w < 0) {
    c.p.close(r);
    return err('EMFILE');
  }
  c.p.install(w, wf, (flags & O_CLOEXEC) !== 0n);
  // do_pipe2 copies both numbers out and undoes everything on a fault (fs/pipe.c).
  if (!put(c, fds, new Uint8Array([...le(BigInt(r), 4), ...le(BigInt(w), 4)]))) {
    c.p.close(r);
    c.p.close(w);
    return err('EFAULT');
  }
  return 0n;
}

function dup2Like(c: SysCtx, oldfd: bigint, newfd: bigint, flags: bigint): bigint {
  const o = c.p.fd(oldfd);
  if (newfd >= BigInt(NOFILE)) return err('EBADF');
  if (!o) return err('EBADF');
  c.p.install(Number(newfd), o.file, (flags & O_CLOEXEC) !== 0n);
  return newfd;
}

export const IO: Record<string, SyscallImpl> = {
  sys_read: { args: 'uLL', run: (c, [fd, buf, n]) => rw(c, 'r', fd!, buf!, n!, null) },
  sys_write: { args: 'uLL', run: (c, [fd, buf, n]) => rw(c, 'w', fd!, buf!, n!, null) },
  sys_readv: { args: 'LLL', run: (c, [fd, v, n]) => rwv(c, 'r', fd!, v!, n!, null) },
  sys_writev: { args: 'LLL', run: (c, [fd, v, n]) => rwv(c, 'w', fd!, v!, n!, null) },
  // ksys_pread64: a negative position fails before the descriptor is looked up.
  sys_pread64: { args: 'uLLl', run: (c, [fd, b, n, pos]) => (pos! < 0n ? err('EINVAL') : rw(c, 'r', fd!, b!, n!, pos!)) },
  sys_pwrite64: { args: 'uLLl', run: (c, [fd, b, n, pos]) => (pos! < 0n ? err('EINVAL') : rw(c, 'w', fd!, b!, n!, pos!)) },
  // arch/x86/kernel/sys_ia32.c: the 64-bit offset arrives as two 32-bit halves (lo, hi).
  sys_ia32_pread64: {
    args: 'uuuuu',
    run: (c, [fd, b, n, lo, hi]) => {
      const pos = BigInt.asIntN(64, (hi! << 32n) | lo!);
      return pos < 0n ? err('EINVAL') : rw(c, 'r', fd!, b!, n!, pos);
    },
  },
  sys_ia32_pwrite64: {
    args: 'uuuuu',
    run: (c, [fd, b, n, lo, hi]) => {
      const pos = BigInt.asIntN(64, (hi! << 32n) | lo!);
      return pos < 0n ? err('EINVAL') : rw(c, 'w', fd!, b!, n!, pos);
    },
  },
  sys_lseek: {
    args: 'ulu',
    run: (c, [fd, off, wh]) => {
      const f = fdFile(c, fd!);
      return f ? seek(f, off!, wh!) : err('EBADF');
    },
  },
  // compat_sys_lseek: compat_off_t is a signed 32-bit offset (fs/read_write.c).
  compat_sys_lseek: {
    args: 'uiu',
    run: (c, [fd, off, wh]) => {
      const f = fdFile(c, fd!);
      if (!f) return err('EBADF');
      const r = seek(f, off!, wh!);
      // A 32-bit off_t cannot hold a position past 2 GiB: -EOVERFLOW (generic_file_llseek_size).
      return r > 0x7fffffffn ? err('EOVERFLOW') : r;
    },
  },
  sys_llseek: {
    args: 'uLLLu',
    run: (c, [fd, hi, lo, result, wh]) => {
      const f = fdFile(c, fd!);
      if (!f) return err('EBADF');
      if (wh! > SEEK_MAX) return err('EINVAL');
      const off = BigInt.asIntN(64, (BigInt.asUintN(32, hi!) << 32n) | BigInt.asUintN(32, lo!));
      const r = seek(f, off, wh!);
      if (r < 0n) return r;
      return put(c, result!, le(r, 8)) ? 0n : err('EFAULT');
    },
  },
  sys_close: { args: 'u', run: (c, [fd]) => (c.p.close(Number(fd!)) || false ? 0n : err('EBADF')) },
  sys_dup: {
    args: 'u',
    run: (c, [fd]) => {
      const e = c.p.fd(fd!);
      if (!e) return err('EBADF');
      const n = c.p.lowestFree();
      if (n < 0) return err('EMFILE');
      c.p.install(n, e.file);
      return BigInt(n);
    },
  },
  sys_dup2: {
    args: 'uu',
    run: (c, [o, n]) => {
      // ksys_dup2 with old == new only validates old (fs/file.c).
      if (o === n) return c.p.fd(o!) ? n! : err('EBADF');
      return dup2Like(c, o!, n!, 0n);
    },
  },
  sys_dup3: {
    args: 'uui',
    run: (c, [o, n, fl]) => {
      if ((fl! & ~O_CLOEXEC) !== 0n) return err('EINVAL');
      if (o === n) return err('EINVAL');
      return dup2Like(c, o!, n!, fl!);
    },
  },
  sys_pipe: { args: 'L', run: (c, [fds]) => doPipe(c, fds!, 0n) },
  sys_pipe2: { args: 'Li', run: (c, [fds, fl]) => doPipe(c, fds!, BigInt.asUintN(32, fl!)) },
};
