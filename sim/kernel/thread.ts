// Case.thread in the simulator (SC-04/05/06): the case's call runs in a second task of the
// process. The model keeps what seccomp needs of the two tasks: each its own filter state
// (task->seccomp) and NO_NEW_PRIVS, the process's live-thread count (signal->live), and which
// of the two the call killed. The task the CPU runs is the second thread; the main thread only
// installs filters (before the clone, inherited through copy_seccomp; or after it, reaching the
// thread only through TSYNC) and reports once the thread is gone.

import type { Case, Observation, Profile, SeccompInstallResult } from '../../harness/contracts.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import { SeccompState, type InstallResult, type TsyncPeer } from './seccomp/filter.js';

/** The second thread's id: the next pid after the process's own (4242), as a fresh clone gets. */
export const THREAD_TID = 4243n;

function result(r: InstallResult): SeccompInstallResult {
  if (r.ok) return { ret: 0, errno: 0 };
  // A TSYNC refusal is the sibling's tid with no errno (kernel/seccomp.c seccomp_set_mode_filter).
  return r.ret !== undefined ? { ret: r.ret, errno: 0 } : { ret: -1, errno: r.errno };
}

/**
 * Install the case's filters around the clone as the probe does (probes/thread.c) and make the
 * second thread's state the kernel's current task state. Returns the main thread's install
 * results (Observation.seccomp_install), or a reason the set-up cannot be made.
 */
export function installThreaded(c: Case, profile: Profile, p: Process, k: Kernel): { results: SeccompInstallResult[] } | { error: string } {
  const t = c.thread!;
  const setup = c.seccomp;
  if (setup && (setup.mode === 'strict' || setup.thenStrict)) return { error: 'strict mode with a second thread is not modelled' };
  const mainSc = new SeccompState({ kernel: profile.kernel });
  let mainNnp = p.noNewPrivs;
  const results: SeccompInstallResult[] = [];
  const installMain = (peers: readonly TsyncPeer[]) => {
    setup?.filters.forEach((prog, i) => {
      const o = setup.opts?.[i];
      // The probe's recipe: PR_SET_NO_NEW_PRIVS before each install unless told otherwise.
      if (o?.noNewPrivs !== false) mainNnp = true;
      results.push(result(mainSc.install({ mode: 'filter', program: o?.nullProgram ? null : prog, flags: o?.flags ?? 0 }, { noNewPrivs: mainNnp, capSysAdmin: false }, peers)));
    });
  };
  if (t.mainSeccomp === 'before') installMain([]);
  // clone(CLONE_THREAD): copy_seccomp gives the new task the creator's filter tree and mode,
  // and NO_NEW_PRIVS is copied with the task's atomic flags (kernel/fork.c).
  const callerSc = t.mainSeccomp === 'before' ? mainSc.fork() : new SeccompState({ kernel: profile.kernel });
  let callerNnp = mainNnp;
  // The thread's own filters, installed by itself: its tree now diverges from the main thread's.
  for (const [i, prog] of (t.seccomp ?? []).entries()) {
    callerNnp = true;
    const r = callerSc.install({ mode: 'filter', program: prog }, { noNewPrivs: true, capSysAdmin: false });
    if (!r.ok) return { error: `the second thread's own filter ${i} was refused: ${r.reason}` };
  }
  if (t.mainSeccomp === 'after') {
    installMain([{ tid: THREAD_TID, seccomp: callerSc, setNoNewPrivs: () => { callerNnp = true; } }]);
  }
  k.seccomp = callerSc;
  k.liveThreads = 2;
  p.callerTid = THREAD_TID;
  p.noNewPrivs = callerNnp;
  p.seccompMode = callerSc.prctlValue;
  return { results };
}

/**
 * The main thread's report (Observation.thread). A process killed as a whole (KILL_PROCESS, a
 * fatal signal: the group exits) leaves no report; a second thread that died alone (do_exit)
 * is outcome `killed` without an exit status.
 */
export function threadReport(c: Case, k: Kernel, o: Observation): void {
  if (!c.thread) return;
  if (o.outcome === 'killed' && k.threadExited) {
    delete o.exit;
    o.thread = { tid: THREAD_TID, ended: 'killed' };
  } else if (o.outcome === 'returned' || o.outcome === 'signal') {
    o.thread = { tid: THREAD_TID, ended: o.outcome };
  }
}
