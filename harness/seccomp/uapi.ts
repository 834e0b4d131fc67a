// Classic-BPF and seccomp constants from the kernel's user API, in one place for the
// assembler, the rule compiler (harness/seccomp/) and the simulator's interpreter
// (sim/kernel/seccomp/). Sources: include/uapi/linux/bpf_common.h, include/uapi/linux/filter.h,
// include/uapi/linux/seccomp.h, include/linux/filter.h (SKF_AD_*), kernel/seccomp.c.

import type { BpfInsn } from '../contracts.js';
export type { BpfInsn } from '../contracts.js';

// ---- instruction fields (bpf_common.h) ----
export const BPF_CLASS = (code: number): number => code & 0x07;
export const BPF_SIZE = (code: number): number => code & 0x18;
export const BPF_MODE = (code: number): number => code & 0xe0;
export const BPF_OP = (code: number): number => code & 0xf0;
export const BPF_SRC = (code: number): number => code & 0x08;
export const BPF_RVAL = (code: number): number => code & 0x18;
export const BPF_MISCOP = (code: number): number => code & 0xf8;

/** Instruction classes. */
export const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03,
  BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07;
/** Load sizes: word, half, byte. */
export const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10;
/** Load modes. */
export const BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MEM = 0x60, BPF_LEN = 0x80, BPF_MSH = 0xa0;
/** ALU operations. */
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_OR = 0x40,
  BPF_AND = 0x50, BPF_LSH = 0x60, BPF_RSH = 0x70, BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0;
/** Jump operations. */
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40;
/** Operand source: the constant k or the register X (for RET: A). */
export const BPF_K = 0x00, BPF_X = 0x08, BPF_A = 0x10;
/** MISC operations. */
export const BPF_TAX = 0x00, BPF_TXA = 0x80;

/** Longest program the kernel accepts (include/uapi/linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;
/** Scratch memory cells M[0..15] (include/uapi/linux/filter.h). */
export const BPF_MEMWORDS = 16;
/** Ancillary-data loads start here (SKF_AD_OFF = -0x1000 as u32); none is valid for seccomp. */
export const SKF_AD_OFF = 0xfffff000;
/** SKF_AD_* codes the socket-filter checker knows (include/uapi/linux/filter.h), SKF_AD_OFF + these. */
export const SKF_AD_CODES: readonly number[] = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60];

// ---- seccomp (include/uapi/linux/seccomp.h, kernel/seccomp.c) ----
export const SECCOMP_MODE_DISABLED = 0, SECCOMP_MODE_STRICT = 1, SECCOMP_MODE_FILTER = 2;
export const SECCOMP_SET_MODE_STRICT = 0, SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export type SeccompRetName = keyof typeof SECCOMP_RET;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_ACTION = 0x7fff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

/** The action names verdicts use, most severe first (the kernel's precedence, SC-05). */
export const SECCOMP_ACTIONS = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'] as const;
export type SeccompAction = (typeof SECCOMP_ACTIONS)[number];
export const ACTION_VALUE: Record<SeccompAction, number> = {
  kill_process: SECCOMP_RET.KILL_PROCESS,
  kill_thread: SECCOMP_RET.KILL_THREAD,
  trap: SECCOMP_RET.TRAP,
  errno: SECCOMP_RET.ERRNO,
  user_notif: SECCOMP_RET.USER_NOTIF,
  trace: SECCOMP_RET.TRACE,
  log: SECCOMP_RET.LOG,
  allow: SECCOMP_RET.ALLOW,
};

/**
 * What the kernel does with a filter's 32-bit return: __seccomp_filter switches on
 * `ret & SECCOMP_RET_ACTION_FULL`, and anything it does not know lands in the default
 * branch with KILL_PROCESS (v4.14+, SC-04).
 */
export function actionOf(raw: number): { action: SeccompAction; known: boolean } {
  const full = (raw & SECCOMP_RET_ACTION_FULL) >>> 0;
  for (const a of SECCOMP_ACTIONS) if (ACTION_VALUE[a] === full) return { action: a, known: true };
  return { action: 'kill_process', known: false };
}

/**
 * The order key seccomp_run_filters compares: ACTION_ONLY(ret) = (s32)(ret & ACTION_FULL);
 * the lowest wins, so KILL_PROCESS (negative) beats everything.
 */
export function actionRank(raw: number): number {
  return (raw & SECCOMP_RET_ACTION_FULL) | 0;
}

/** SECCOMP_FILTER_FLAG_* (include/uapi/linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1 << 0,
  LOG: 1 << 1,
  SPEC_ALLOW: 1 << 2,
  NEW_LISTENER: 1 << 3,
  TSYNC_ESRCH: 1 << 4,
  WAIT_KILLABLE_RECV: 1 << 5,
} as const;
export const SECCOMP_FILTER_FLAG_MASK = 0x3f;

/** Longest total path through stacked filters, counting 4 extra per filter (kernel/seccomp.c). */
export const MAX_INSNS_PER_PATH = (1 << 18) / 8;

/** struct seccomp_data: offsets and size (SC-01). */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instruction_pointer: 8,
  args: 16,
  size: 64,
} as const;
/** Byte offset of args[i] (its low half on a little-endian machine; +4 is the high half). */
export function argOffset(i: number): number {
  return SECCOMP_DATA.args + 8 * i;
}

/** A fresh instruction; k and the jump offsets are stored unsigned (u32, u8). */
export function insn(code: number, k = 0, jt = 0, jf = 0): BpfInsn {
  return { code, jt, jf, k: k >>> 0 };
}
