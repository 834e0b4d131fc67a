// Capturing ftrace syscall events around probe runs (issue 7, docs/ftrace.md). Captures use a
// private tracing instance (instances/sysabi-<pid>-<n>: its own buffer, event switches, options
// and pid filter; Documentation/trace/ftrace.rst "Instances"), so the global tracing state is
// never touched, and removing the instance restores everything. Instances are removed by their
// owner's close(), at process exit, and on SIGINT/SIGTERM/SIGHUP (the signal then goes on as usual).
//
// Two shapes:
// - openTraceRun(): one instance for a whole run. Made once; events switched on as batches need
//   them; tracing_on only while a probe session runs; each session's events are consumed from
//   trace_pipe, so nothing is cleared (clearing `trace` waits for an RCU grace period, ~20 ms).
// - createInstance()/withInstance(): one instance per capture, every syscall event (the
//   original shape, kept for one-off captures and as the benchmark's baseline).

import { existsSync, closeSync, mkdirSync, openSync, readSync, readFileSync, readdirSync, rmdirSync, writeFileSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { metaOf } from '../../abi/metadata/index.js';
import type { EventNeed } from './events.js';

let counter = 0;
/** Instances alive in this process, removed at exit or on a fatal signal if a run is interrupted. */
const LIVE = new Set<string>();
let exitHook = false;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let signalHooked = false;

function removeInstance(dir: string): void {
  try {
    // Turning the events and recording off first makes the removal never EBUSY for a live event.
    writeFileSync(join(dir, 'tracing_on'), '0');
  } catch { /* the instance may be half made */ }
  try {
    writeFileSync(join(dir, 'events', 'enable'), '0');
  } catch { /* idem */ }
  try {
    rmdirSync(dir);
  } catch { /* already gone */ }
  LIVE.delete(dir);
  if (LIVE.size === 0) unhookSignals();
}

export function removeAllInstances(): void {
  for (const d of [...LIVE]) removeInstance(d);
}

/**
 * A fatal signal would end the process without 'exit' hooks, so the instances go at once, and
 * the signal then takes its course as if this listener had never been there: it removes itself
 * and, when no other listener is left, re-raises the signal with the default action. Another
 * listener (the CLI's first Ctrl-C, which finishes the batches in flight; signal-exit, which
 * re-raises itself when it is alone) decides what happens next; a capture still running then
 * fails with a clear reason. Registered first (prepend) so the others see it gone.
 */
function onSignal(sig: NodeJS.Signals): void {
  for (const d of LIVE) removedBy.set(d, sig);
  removeAllInstances();
  unhookSignals();
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}
/** Instances removed by a signal, and which: a session that finds its instance gone says so. */
const removedBy = new Map<string, string>();
function hookSignals(): void {
  if (signalHooked) return;
  signalHooked = true;
  for (const s of SIGNALS) process.prependListener(s, onSignal);
}
function unhookSignals(): void {
  if (!signalHooked) return;
  signalHooked = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function track(dir: string): void {
  LIVE.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', removeAllInstances);
  }
  hookSignals();
}

/** Names of the instances this process holds now (for tests). */
export function liveInstances(): string[] {
  return [...LIVE];
}

/**
 * Instances left by runs that died without their hooks (SIGKILL, an OOM kill, a test runner's
 * timeout): an instance's enabled events stay attached to their tracepoints, so every system
 * call on the machine keeps paying for the syscall probes (ftrace_syscall_enter shows in any
 * profile) until the instance is removed. An instance is ours when named sysabi-<pid>-<n>; it is
 * stale when that pid no longer exists (kill(pid, 0) fails with ESRCH). A pid that exists is
 * left alone even if reused: removing a live run's instance would fail that run. Returns the
 * names removed. Called before each new instance, so the next run cleans up after a dead one.
 */
export function sweepStaleInstances(tracefs: string, alive: (pid: number) => boolean = pidAlive): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(join(tracefs, 'instances'));
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = /^sysabi-(\d+)-\d+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const dir = join(tracefs, 'instances', name);
    removeInstance(dir);
    if (!existsSync(dir)) removed.push(name);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

let swept = false;

function makeDir(tracefs: string): string {
  if (!swept) {
    swept = true;
    sweepStaleInstances(tracefs);
  }
  const dir = join(tracefs, 'instances', `sysabi-${process.pid}-${++counter}`);
  mkdirSync(dir);
  track(dir);
  return dir;
}

/** Common set-up: event-fork and user stacks. Returns whether user stacks can be recorded. */
function setOptions(dir: string): boolean {
  writeFileSync(join(dir, 'options', 'event-fork'), '1');
  if (!existsSync(join(dir, 'set_event_pid'))) throw new Error(`${dir}/set_event_pid is missing (kernel older than v4.4?)`);
  try {
    writeFileSync(join(dir, 'options', 'userstacktrace'), '1');
    return true;
  } catch {
    return false;
  }
}

/** argv that starts `argv` with its own pid written to the instance's pid filter. */
function shWrap(dir: string, append: boolean): (argv: string[]) => string[] {
  const redir = append ? '>>' : '>';
  return (argv) => ['/bin/sh', '-c', `echo $$ ${redir} "$0" && exec "$@"`, join(dir, 'set_event_pid'), ...argv];
}

export interface FtraceInstance {
  dir: string;
  /** Whether user stacks (the events' user IP) are recorded. */
  userStacks: boolean;
  /** argv that starts `argv` with its own pid in the instance's pid filter. */
  wrap(argv: string[]): string[];
  /** The instance's trace text so far. */
  read(): string;
  /** Remove the instance (restores every setting it changed). Idempotent. */
  close(): void;
}

/** Make an instance that records every syscall event of one process tree. */
export function createInstance(tracefs: string): FtraceInstance {
  const dir = makeDir(tracefs);
  try {
    const userStacks = setOptions(dir);
    // Every syscall event: a compat call must be seen to emit none at all, not just none of
    // the name it was called by (the event would carry the x86_64 meaning of its number).
    writeFileSync(join(dir, 'events', 'syscalls', 'enable'), '1');
    return {
      dir,
      userStacks,
      wrap: shWrap(dir, false),
      read: () => readFileSync(join(dir, 'trace'), 'utf8'),
      close: () => removeInstance(dir),
    };
  } catch (e) {
    removeInstance(dir);
    throw e;
  }
}

/** Run `body` with a fresh instance; the instance is removed afterwards whatever happens. */
export async function withInstance<T>(tracefs: string, body: (inst: FtraceInstance) => Promise<T>): Promise<{ value: T; text: string; userStacks: boolean }> {
  const inst = createInstance(tracefs);
  try {
    const value = await body(inst);
    return { value, text: inst.read(), userStacks: inst.userStacks };
  } finally {
    inst.close();
  }
}

// ------------------------------------------------------------------ one instance per run

export interface SessionCapture<T> {
  value: T;
  /** The trace_pipe text recorded while the session ran. */
  text: string;
  /** Events the ring buffer lost during the session (overrun + dropped events in each per_cpu/cpuN/stats). */
  lost: number;
}

export interface TraceRun {
  dir: string;
  userStacks: boolean;
  /** Whether the pid filter follows this process's children by itself (no per-session write). */
  followsChildren: boolean;
  /** The syscall event names switched on so far, or 'all'. */
  enabled(): ReadonlySet<string> | 'all';
  /** Switch on what `need` asks for (idempotent; events are never switched off during a run). */
  enable(need: EventNeed): void;
  /**
   * Run `body` (which starts probe processes with `wrap(argv)`) with recording on and return
   * what it recorded. Sessions of one run are serialized: each owns the buffer while it runs.
   */
  session<T>(body: (wrap: (argv: string[]) => string[]) => Promise<T>): Promise<SessionCapture<T>>;
  /** Remove the instance. Idempotent. */
  close(): void;
}

/** The event the session check relies on: every probe start records the sys_enter of execve. */
export const CANARY_EVENT = 'execve';

function lostEvents(dir: string): number {
  let n = 0;
  let cpus: string[];
  try {
    cpus = readdirSync(join(dir, 'per_cpu'));
  } catch {
    return 0;
  }
  for (const c of cpus) {
    try {
      const s = readFileSync(join(dir, 'per_cpu', c, 'stats'), 'utf8');
      for (const m of s.matchAll(/^(?:overrun|dropped events): (\d+)/gm)) n += Number(m[1]);
    } catch { /* a CPU gone offline */ }
  }
  return n;
}

/** Read trace_pipe until it is empty (consuming). Recording must be off, or our own reads would refill it. */
function drainPipe(dir: string): string {
  const fd = openSync(join(dir, 'trace_pipe'), fsc.O_RDONLY | fsc.O_NONBLOCK);
  const buf = Buffer.alloc(1 << 16);
  const parts: string[] = [];
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (n === 0) break;
      parts.push(buf.toString('utf8', 0, n));
    }
  } finally {
    closeSync(fd);
  }
  return parts.join('');
}

/**
 * Make the run's instance. Recording starts off. The pid filter holds this process (the thread
 * that spawns children: Node's main thread), and options/event-fork adds every child it forks
 * from then on (kernel/trace/trace_events.c event_filter_pid_sched_process_fork), so probes need
 * no per-start filter write: replacing a non-empty set_event_pid waits for an RCU grace period
 * (~36 ms here), the first write does not. Off the main thread, children come from another
 * thread, so each probe start appends its own pid through /bin/sh instead.
 */
export function openTraceRun(tracefs: string): TraceRun {
  const dir = makeDir(tracefs);
  let lock: Promise<unknown> = Promise.resolve();
  const on = new Set<string>();
  let all = false;
  let closed = false;
  try {
    writeFileSync(join(dir, 'tracing_on'), '0');
    const userStacks = setOptions(dir);
    const followsChildren = isMainThread;
    if (followsChildren) writeFileSync(join(dir, 'set_event_pid'), String(process.pid));
    const wrap = followsChildren ? (argv: string[]) => argv : shWrap(dir, true);
    const evDir = join(dir, 'events', 'syscalls');
    // Events this kernel has that the metadata table does not know: their number is unknown,
    // so any case's call might be one of them; they are always on (none on the table's kernel).
    const unknown = readdirSync(evDir).flatMap((e) => {
      const m = /^sys_enter_(.+)$/.exec(e);
      return m && !metaOf(m[1]!) ? [m[1]!] : [];
    });
    const enableNames = (names: Iterable<string>): void => {
      const lines: string[] = [];
      for (const n of names) {
        if (on.has(n)) continue;
        for (const ev of [`sys_enter_${n}`, `sys_exit_${n}`]) if (existsSync(join(evDir, ev))) lines.push(`syscalls:${ev}`);
        on.add(n);
      }
      // Appending: opening set_event with O_TRUNC would switch every event off first.
      if (lines.length) writeFileSync(join(dir, 'set_event'), lines.join('\n') + '\n', { flag: 'a' });
    };
    enableNames([CANARY_EVENT, ...unknown]);
    return {
      dir,
      userStacks,
      followsChildren,
      enabled: () => (all ? 'all' : on),
      enable(need) {
        if (closed) throw new Error(`tracing instance ${dir} is closed`);
        if (all) return;
        if (need.all) {
          writeFileSync(join(evDir, 'enable'), '1');
          all = true;
          return;
        }
        enableNames(need.names);
      },
      session<T>(body: (wrap: (argv: string[]) => string[]) => Promise<T>): Promise<SessionCapture<T>> {
        const run = async (): Promise<SessionCapture<T>> => {
          if (closed) throw new Error(`tracing instance ${dir} is closed`);
          const sig = removedBy.get(dir);
          if (sig) throw new Error(`tracing instance ${dir} was removed when the process received ${sig}`);
          drainPipe(dir); // leftovers of an interrupted session belong to nobody
          const lost0 = lostEvents(dir);
          writeFileSync(join(dir, 'tracing_on'), '1');
          let value: T;
          try {
            value = await body(wrap);
          } finally {
            if (!closed && !removedBy.has(dir)) writeFileSync(join(dir, 'tracing_on'), '0');
          }
          const gone = removedBy.get(dir);
          if (gone) throw new Error(`tracing instance ${dir} was removed when the process received ${gone}, while this capture ran`);
          return { value, text: drainPipe(dir), lost: lostEvents(dir) - lost0 };
        };
        const p = lock.then(run, run);
        lock = p.catch(() => undefined);
        return p;
      },
      close() {
        closed = true;
        removeInstance(dir);
      },
    };
  } catch (e) {
    removeInstance(dir);
    throw e;
  }
}
