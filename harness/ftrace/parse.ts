// Parsing the text of a tracefs `trace` file holding syscall events, as
// kernel/trace/trace_syscalls.c prints them (print_syscall_enter: "sys_NAME(arg: value, ...)",
// print_syscall_exit: "sys_NAME -> 0xRET"), each optionally followed by the user stack trace
// that options/userstacktrace adds ("<user stack trace>" then " =>  <ADDR>" lines,
// kernel/trace/trace_output.c trace_user_stack_print). The first user-stack address is
// regs->ip: for a syscall event, the address right after the entry instruction. The stack is
// its own ring-buffer entry, written right after the event on the same CPU
// (kernel/trace/trace.c ftrace_trace_userstack); in the merged, time-ordered output another
// CPU's line may come between the two, so a stack belongs to the last event of its CPU.

import { metaOf } from '../../abi/metadata/index.js';
import { lookupName } from '../../abi/tables/index.js';
import type { FtraceEvent } from '../contracts.js';

export interface TraceRecord {
  task: string;
  pid: number;
  cpu: number;
  /** Seconds, as printed. */
  ts: number;
  event: 'sys_enter' | 'sys_exit';
  /** SYSCALL_DEFINE name (the part after "sys_"). */
  name: string;
  /** sys_enter: the arguments by name, in order. */
  args?: { name: string; value: bigint }[];
  /** sys_exit: the return value, as a signed long. */
  ret?: bigint;
  /** User stack addresses (options/userstacktrace); [0] is the user IP of the event. */
  ustack: bigint[];
}

// "  TASK-PID  (TGID)? [CPU] FLAGS? TIMESTAMP: BODY"; TASK may hold '-' and spaces.
const HEAD_RE = /^\s*(.*)-(\d+)\s+(?:\(\s*(?:\d+|-+)\s*\)\s+)?\[(\d+)\]\s+(?:[^\s:]+\s+)?(\d+\.\d+):\s(.*)$/;
const ENTER_RE = /^sys_([A-Za-z0-9_]+)\((.*)\)\s*$/;
const EXIT_RE = /^sys_([A-Za-z0-9_]+) -> (-?(?:0x[0-9a-fA-F]+|\d+))\s*$/;
const ARG_RE = /(?:^|,\s)([A-Za-z_][A-Za-z0-9_]*): (-?(?:0x[0-9a-fA-F]+|\d+))/g;
const USTACK_RE = /^\s*=>\s+<?(?:0x)?([0-9a-fA-F]+)>?/;

/** A number as print_syscall_* writes it: 0x-hex, or decimal for small values (v6.x). */
export function traceNumber(s: string): bigint {
  const neg = s.startsWith('-');
  const t = neg ? s.slice(1) : s;
  const v = BigInt(t); // BigInt understands both "0x1f" and "31"
  return neg ? -v : v;
}

/** Every syscall record of a trace text, in order; other lines are ignored. */
export function parseTrace(text: string): TraceRecord[] {
  const out: TraceRecord[] = [];
  /** Per CPU: the record a following "<user stack trace>" entry belongs to. */
  const last = new Map<number, TraceRecord | undefined>();
  let stackOf: TraceRecord | undefined;
  let inStack = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (inStack) {
      const u = USTACK_RE.exec(line);
      if (u) { stackOf?.ustack.push(BigInt('0x' + u[1]!)); continue; }
      inStack = false;
    }
    const h = HEAD_RE.exec(line);
    if (!h) continue;
    const body = h[5]!;
    const cpu = Number(h[3]);
    if (body.trim() === '<user stack trace>') {
      inStack = true;
      // One stack per event: a second stack on the same CPU has no event of ours to go to.
      stackOf = last.get(cpu);
      last.set(cpu, undefined);
      continue;
    }
    const base = { task: h[1]!.trim(), pid: Number(h[2]), cpu, ts: Number(h[4]), ustack: [] as bigint[] };
    const en = ENTER_RE.exec(body);
    if (en) {
      const args = [...en[2]!.matchAll(ARG_RE)].map((m) => ({ name: m[1]!, value: BigInt.asUintN(64, traceNumber(m[2]!)) }));
      const r: TraceRecord = { ...base, event: 'sys_enter', name: en[1]!, args };
      out.push(r);
      last.set(cpu, r);
      continue;
    }
    const ex = EXIT_RE.exec(body);
    if (ex) {
      const r: TraceRecord = { ...base, event: 'sys_exit', name: ex[1]!, ret: BigInt.asIntN(64, traceNumber(ex[2]!)) };
      out.push(r);
      last.set(cpu, r);
      continue;
    }
    last.set(cpu, undefined); // another event: its stack trace, if any, belongs to it
  }
  return out;
}

/** The x86_64 number of a traced syscall name (metadata first, then the table by name). */
export function nrOfTraceName(name: string): number {
  return metaOf(name)?.nr ?? lookupName('x86_64', name)?.nr ?? -1;
}

/**
 * The records of one case's call: its process (pid) and, when user stacks were recorded,
 * the events whose user IP is the address after the case's entry instruction. Records without
 * a user stack are kept when `nextIp` is unknown.
 */
export function caseEvents(recs: readonly TraceRecord[], pid: number, nextIp: bigint | undefined): FtraceEvent[] {
  return recs
    .filter((r) => r.pid === pid && (nextIp === undefined || r.ustack[0] === nextIp))
    .map((r) => {
      const ev: FtraceEvent = { kind: 'ftrace', event: r.event, name: r.name, nr: nrOfTraceName(r.name) };
      if (r.event === 'sys_enter') ev.args = (r.args ?? []).map((a) => a.value);
      else ev.ret = r.ret!;
      return ev;
    });
}

/**
 * Whether a trace shows a probe start: the sys_enter of execve, recorded in the forked child
 * before the new image runs. (Its sys_exit is not a usable sign: exec of a 32-bit program makes
 * the rest of the call a compat syscall, arch/x86/kernel/process_64.c __set_personality_ia32
 * sets TS_COMPAT, so the exit event is skipped like any ia32 call's.)
 */
export function sawExec(recs: readonly TraceRecord[]): boolean {
  return recs.some((r) => r.event === 'sys_enter' && r.name === 'execve');
}
