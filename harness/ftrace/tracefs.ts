// Finding (and if need be mounting) tracefs, and saying in one sentence why it cannot be used:
// the reason becomes the SKIP reason of every ftrace case (docs/ftrace.md). tracefs lives at
// /sys/kernel/tracing (v4.1+), and under debugfs at /sys/kernel/debug/tracing on older set-ups
// (Documentation/trace/ftrace.rst, "The File System").

import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRACEFS_DEFAULT = '/sys/kernel/tracing';
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

export type TracefsState = { ok: true; dir: string; mountedByUs: boolean } | { ok: false; reason: string };

/** Whether `dir` is a usable tracefs root for syscall events: the files capture.ts writes. */
export function checkTracefsDir(dir: string): string | undefined {
  if (!existsSync(join(dir, 'instances'))) return `${dir} has no instances/ directory (tracefs not mounted there?)`;
  if (!existsSync(join(dir, 'events', 'syscalls'))) return `${dir}/events/syscalls does not exist: the kernel was built without CONFIG_FTRACE_SYSCALLS`;
  try {
    accessSync(join(dir, 'instances'), constants.W_OK);
  } catch {
    return `${dir}/instances is not writable (ftrace needs root or CAP_SYS_ADMIN)`;
  }
  return undefined;
}

function mountedAt(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => {
      const f = l.split(' ');
      return f[1] === dir && (f[2] === 'tracefs' || f[2] === 'debugfs');
    });
  } catch {
    return false;
  }
}

let cached: TracefsState | undefined;

/**
 * Locate tracefs: $SYSABI_TRACEFS, /sys/kernel/tracing, the debugfs path; if none is mounted
 * and we are root, mount tracefs at /sys/kernel/tracing (it stays mounted, as systemd would
 * leave it; nothing else is changed). Memoized for the process.
 */
export function locateTracefs(opts: { mount?: boolean; refresh?: boolean } = {}): TracefsState {
  if (cached && !opts.refresh) return cached;
  const env = process.env.SYSABI_TRACEFS;
  if (env) {
    const why = checkTracefsDir(env);
    return (cached = why ? { ok: false, reason: `SYSABI_TRACEFS=${env}: ${why}` } : { ok: true, dir: env, mountedByUs: false });
  }
  if (process.platform !== 'linux') return (cached = { ok: false, reason: `ftrace is Linux-only (this is ${process.platform})` });
  for (const d of [TRACEFS_DEFAULT, DEBUGFS_TRACING]) {
    if (existsSync(join(d, 'events')) && !checkTracefsDir(d)) return (cached = { ok: true, dir: d, mountedByUs: false });
  }
  if (existsSync(join(TRACEFS_DEFAULT, 'events'))) {
    return (cached = { ok: false, reason: checkTracefsDir(TRACEFS_DEFAULT)! });
  }
  if (opts.mount === false) return (cached = { ok: false, reason: `tracefs is not mounted at ${TRACEFS_DEFAULT}` });
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return (cached = { ok: false, reason: `tracefs is not mounted at ${TRACEFS_DEFAULT} and mounting it needs root (uid ${process.getuid()})` });
  }
  if (!existsSync(TRACEFS_DEFAULT)) return (cached = { ok: false, reason: `${TRACEFS_DEFAULT} does not exist (kernel without CONFIG_TRACING?)` });
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_DEFAULT], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return (cached = { ok: false, reason: `mount -t tracefs nodev ${TRACEFS_DEFAULT} failed: ${err || (e as Error).message}` });
  }
  if (!mountedAt(TRACEFS_DEFAULT)) return (cached = { ok: false, reason: `mounting tracefs at ${TRACEFS_DEFAULT} did not take effect` });
  const why = checkTracefsDir(TRACEFS_DEFAULT);
  return (cached = why ? { ok: false, reason: why } : { ok: true, dir: TRACEFS_DEFAULT, mountedByUs: true });
}
