// The simulator's seccomp user-notification supervisor (SC-04): what a task in
// seccomp_do_user_notification (kernel/seccomp.c) gets back once the supervisor on the listener
// fd has read the notification (seccomp_notify_recv) and answered it (seccomp_notify_send).
// The probes run a real supervisor task (probes/notify.c); here it is the case's script.

import { ERRNO } from '../../../abi/constants.js';
import type { NotifyObservation, NotifyScript } from '../../../harness/contracts.js';
import { versionAtLeast } from '../../profiles.js';
import type { SeccompData } from './bpf.js';

/** SECCOMP_USER_NOTIF_FLAG_CONTINUE came with v5.5; older seccomp_notify_send refuses any flag. */
export const NOTIF_CONTINUE_SINCE = '5.5';

/** What the notifying task does once the supervisor is done. */
export type NotifyAnswer =
  /** syscall_set_return_value(err ?: val): the call is skipped with this return value. */
  | { kind: 'ret'; ret: bigint }
  /** SECCOMP_USER_NOTIF_FLAG_CONTINUE: __seccomp_filter returns 0 and the call runs. */
  | { kind: 'run' }
  /** Nobody answers (no script, or SEND refused): the task sleeps until the listener closes,
   *  which the case process itself keeps open — the case never finishes. */
  | { kind: 'wait'; why: string };

export class NotifySupervisor {
  readonly script: NotifyScript | undefined;
  readonly kernel: string;
  /** Observation.notify: filled as the supervisor works. */
  readonly seen: NotifyObservation = {};
  /** The listener's next cookie (seccomp_notif.id): opaque to user space; the kernel only
   *  promises it identifies this notification on this listener. */
  private nextId = 0x5eccn << 48n;

  constructor(script: NotifyScript | undefined, kernel: string) {
    this.script = script;
    this.kernel = kernel;
  }

  /** One notification from task `pid`: RECV copies it out, SEND answers per the script. */
  deliver(data: SeccompData, pid: bigint): NotifyAnswer {
    if (!this.script) return { kind: 'wait', why: 'SECCOMP_RET_USER_NOTIF with a listener that no supervisor reads: the call sleeps until the listener is closed' };
    // seccomp_notify_recv: id, pid (task_pid_vnr in the reader's namespace), flags 0, and the
    // seccomp_data the filters saw.
    this.seen.received = {
      id: this.nextId++, pid, flags: 0, nr: data.nr, arch: data.arch,
      instruction_pointer: data.instruction_pointer, args: [...data.args],
    };
    const r = this.script.respond;
    if (r.kind === 'continue' && !versionAtLeast(this.kernel, NOTIF_CONTINUE_SINCE)) {
      // seccomp_notify_send before v5.5: `if (resp.flags) return -EINVAL;` — the task stays asleep.
      this.seen.send = { ret: -1, errno: ERRNO.EINVAL };
      return { kind: 'wait', why: `SECCOMP_USER_NOTIF_FLAG_CONTINUE is refused before v${NOTIF_CONTINUE_SINCE} (EINVAL): nobody else answers, the call sleeps` };
    }
    this.seen.send = { ret: 0, errno: 0 };
    if (r.kind === 'continue') return { kind: 'run' };
    // seccomp_do_user_notification: syscall_set_return_value(current, regs, n.error, n.val),
    // i.e. ax = error ?: val; resp.error is the negative errno the supervisor wrote.
    return { kind: 'ret', ret: r.kind === 'error' ? BigInt(-r.errno) : r.val };
  }
}
