// Capturing ftrace syscall events around one probe run (issue 7, docs/ftrace.md). Each capture
// uses a private tracing instance (instances/sysabi-<pid>-<n>: its own buffer, event switches,
// options and pid filter; Documentation/trace/ftrace.rst "Instances"), so the global tracing
// state is never touched, and removing the instance restores everything, even after a failure.
// The probe is started through `sh -c 'echo $$ > set_event_pid; exec probe'`: the pid is in
// the filter before the probe's first instruction, and options/event-fork adds the children it
// forks (the isolated case process) as they are created (kernel/trace/trace_events.c
// event_filter_pid_sched_process_fork). options/userstacktrace records each event's user IP,
// which tells the case's own call apart from the probe's set-up calls in the same process.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let counter = 0;
/** Instances alive in this process, removed at exit if a run is interrupted. */
const LIVE = new Set<string>();
let exitHook = false;

function removeInstance(dir: string): void {
  try {
    // Turning the events off first makes the removal cheap and never EBUSY for a live event.
    writeFileSync(join(dir, 'events', 'enable'), '0');
  } catch { /* the instance may be half made */ }
  try {
    rmdirSync(dir);
  } catch { /* already gone */ }
  LIVE.delete(dir);
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
  const dir = join(tracefs, 'instances', `sysabi-${process.pid}-${++counter}`);
  mkdirSync(dir);
  LIVE.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => { for (const d of [...LIVE]) removeInstance(d); });
  }
  try {
    const w = (f: string, v: string): void => writeFileSync(join(dir, f), v);
    w('options/event-fork', '1');
    let userStacks = true;
    try { w('options/userstacktrace', '1'); } catch { userStacks = false; }
    // Every syscall event: a compat call must be seen to emit none at all, not just none of
    // the name it was called by (the event would carry the x86_64 meaning of its number).
    w('events/syscalls/enable', '1');
    if (!existsSync(join(dir, 'set_event_pid'))) throw new Error(`${dir}/set_event_pid is missing (kernel older than v4.4?)`);
    return {
      dir,
      userStacks,
      wrap: (argv) => ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', join(dir, 'set_event_pid'), ...argv],
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
