// Every modelled syscall implementation, keyed by the kernel entry-point name the syscall
// tables give (sys_*, compat_sys_*, sys_ia32_*). Anything missing here is "not modelled".

import type { SyscallImpl } from './types.js';
import { IO } from './io.js';
import { PROC } from './proc.js';
import { TIME } from './time.js';
import { MEM } from './mem.js';
import { TLS } from './tls.js';
import { WAIT } from './wait.js';
import { VM_ACCESS } from './vm_access.js';
import { AFFINITY } from './affinity.js';
import { SIGRETURN } from '../sigframe.js';

export const HANDLERS: Readonly<Record<string, SyscallImpl>> = Object.freeze({ ...IO, ...PROC, ...TIME, ...MEM, ...TLS, ...WAIT, ...VM_ACCESS, ...AFFINITY, ...SIGRETURN });
