// Calls that sleep until a signal arrives: pause() (kernel/signal.c sys_pause). The simulator
// has no other task to wake it, so a sleep with no signal pending is a WouldBlock (the case
// times out, as it would natively); with one pending it returns the restart code and the
// exit path decides (sim/kernel/restart.ts: restarted without a handler, -EINTR with one).

import { ERRNO } from '../../../abi/constants.js';
import { signalPending } from '../restart.js';
import { WouldBlock } from './io.js';
import type { SyscallImpl } from './types.js';

export const WAIT: Record<string, SyscallImpl> = {
  // sys_pause: sleep TASK_INTERRUPTIBLE while !signal_pending(), then -ERESTARTNOHAND — so a
  // signal with no handler (ignored, or only seen by a tracer) restarts it (PT-07).
  sys_pause: {
    args: '',
    run: (c) => {
      if (!signalPending(c.p)) throw new WouldBlock('pause() sleeps until a signal arrives, and none is pending');
      c.note('pause: a signal is pending → -ERESTARTNOHAND');
      return -BigInt(ERRNO.ERESTARTNOHAND);
    },
  },
};
