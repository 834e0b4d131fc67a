// The `ptrace:` key of a case turned into Case.ptrace, and the `events:` expectation turned
// into PtraceEventCheck lists (issue 7; docs/spec-language.md "ptrace"). Names resolve here,
// at expansion time, so every target gets plain numbers and a bad key is reported at its
// file:line:col like any other spec error.

import { SIGNALS, type Abi } from '../../abi/constants.js';
import { ARG_REGS, GPRS64, REG32_ALIASES, type PtraceAction, type PtraceScript, type RegName } from '../contracts.js';
import type { Path } from './doc.js';
import type { MatcherInput } from './schema.js';
import type { Matcher, PtraceEventCheck } from './types.js';
import { parseInt64, type NameSpace } from './values.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** Keys `set:` accepts besides the argument list: user_regs_struct names of a 64-bit tracer. */
const SETTABLE = ['orig_rax', 'rip', 'rflags', ...GPRS64] as const;

interface PtraceInput {
  options?: ('tracesysgood' | 'traceseccomp')[];
  mode?: 'syscall' | 'sysemu' | 'cont';
  at?: {
    stop: 'entry' | 'exit' | 'seccomp'; n?: bigint | string; set?: Record<string, bigint | string | (bigint | string)[]>;
    rewind?: boolean; kill?: bigint | string;
  }[];
}

/** Signals `kill:` refuses: a stop signal would group-stop the tracee, which the tracer's
 *  script does not handle (kernel/signal.c do_signal_stop; ptrace(2) "group-stop"). */
const STOP_SIGNALS = new Set<number>([SIGNALS.SIGSTOP, SIGNALS.SIGTSTP, SIGNALS.SIGTTIN, SIGNALS.SIGTTOU]);

/**
 * Build Case.ptrace. `tableAbi` is the table the entry decodes with (int $0x80 from 64-bit
 * code → i386): it names `nr:` values and picks the registers `args:` writes.
 */
export function buildPtrace(input: unknown, tableAbi: Abi, syscallNs: NameSpace, fail: Fail, signalNs?: NameSpace): PtraceScript | undefined {
  if (input === undefined) return undefined;
  const pi = input as PtraceInput;
  const mode = pi.mode ?? 'syscall';
  const options = [...new Set(pi.options ?? [])];
  let ok = true;
  const at: PtraceAction[] = [];
  const argRegs = ARG_REGS[tableAbi === 'i386' ? '32' : '64'];
  (pi.at ?? []).forEach((a, i) => {
    const p: Path = ['ptrace', 'at', i];
    let n = 1;
    if (a.n !== undefined) {
      const r = parseInt64(a.n);
      if (!r.ok || r.v < 1n || r.v > 16n) { fail([...p, 'n'], `n counts stops of that kind from 1 (1..16), found ${String(a.n)}`); ok = false; }
      else n = Number(r.v);
    }
    // Stops the chosen mode can never produce: say so rather than let the action idle.
    if (a.stop === 'exit' && mode !== 'syscall') { fail([...p, 'stop'], `an exit stop needs mode: syscall (PTRACE_${mode.toUpperCase()} gives none)`); ok = false; }
    if (a.stop === 'entry' && mode === 'cont') { fail([...p, 'stop'], 'an entry stop needs mode: syscall or sysemu (PTRACE_CONT gives none)'); ok = false; }
    if (a.stop === 'seccomp' && !options.includes('traceseccomp')) { fail([...p, 'stop'], 'a seccomp stop needs options: [traceseccomp]'); ok = false; }
    if (at.some((b) => b.stop === a.stop && b.n === n)) { fail(p, `two actions for ${a.stop} stop #${n}`); ok = false; }
    const set: PtraceAction['set'] = {};
    for (const [key, v] of Object.entries(a.set ?? {})) {
      const kp: Path = [...p, 'set', key];
      const num = (x: unknown, sub: Path, names?: NameSpace): bigint | undefined => {
        const r = parseInt64(x);
        if (r.ok) return BigInt.asUintN(64, r.v);
        if (names && typeof x === 'string' && names.lookup(x.trim()) !== undefined) return names.lookup(x.trim())!;
        fail(sub, `${key}: expected an integer${names ? ` or a ${names.what}` : ''}, found ${JSON.stringify(String(x))}`);
        ok = false;
        return undefined;
      };
      if (key === 'args') {
        if (!Array.isArray(v)) { fail(kp, 'args: a list of up to six integers'); ok = false; continue; }
        v.forEach((x, j) => { const b = num(x, [...kp, j]); if (b !== undefined) set[argRegs[j]!] = b; });
        continue;
      }
      if (Array.isArray(v)) { fail(kp, `${key}: one integer, not a list`); ok = false; continue; }
      if (key === 'nr') { const b = num(v, kp, syscallNs); if (b !== undefined) set.orig_rax = b; continue; }
      const reg = (REG32_ALIASES[key] ?? key) as RegName | 'orig_rax';
      if (key === 'orig_eax') { const b = num(v, kp); if (b !== undefined) set.orig_rax = b; continue; }
      if (!(SETTABLE as readonly string[]).includes(reg)) {
        fail(kp, `set: "${key}" is not a register a tracer writes here; use nr, args, orig_rax, rip, rflags or a general register`, true);
        ok = false;
        continue;
      }
      const b = num(v, kp, reg === 'orig_rax' ? syscallNs : undefined);
      if (b !== undefined) set[reg] = b;
    }
    const act: PtraceAction = { stop: a.stop, n, set };
    // PT-06: the tracer's own restart (ptrace_syscall.c test_ptrace_syscall_restart).
    if (a.rewind === true) act.rewind = true;
    if (a.kill !== undefined) {
      const sig = signalNumber(a.kill, signalNs);
      if (sig === undefined) {
        fail([...p, 'kill'], `kill: expected a signal name (SIGUSR1, ...) or number 1..64, found ${JSON.stringify(String(a.kill))}`);
        ok = false;
      } else if (STOP_SIGNALS.has(sig)) {
        fail([...p, 'kill'], `kill: ${String(a.kill)} is a stop signal: it would group-stop the tracee, which the tracer script does not handle`);
        ok = false;
      } else act.kill = sig;
    }
    at.push(act);
  });
  return ok ? { options, mode, at } : undefined;
}

/** A signal by name (through `ns`, or SIGNALS) or number, 1..64; undefined when neither. */
function signalNumber(v: bigint | string, ns?: NameSpace): number | undefined {
  const r = parseInt64(v);
  if (r.ok) return r.v >= 1n && r.v <= 64n ? Number(r.v) : undefined;
  const name = String(v).trim();
  const n = ns ? ns.lookup(name) : (SIGNALS as Record<string, number>)[name] !== undefined ? BigInt((SIGNALS as Record<string, number>)[name]!) : undefined;
  return n !== undefined && n >= 1n && n <= 64n ? Number(n) : undefined;
}

/** The namespaces event fields take names from. */
export interface EventNames {
  syscall: NameSpace;
  signal: NameSpace;
  arch: NameSpace;
}

const OP_NS: NameSpace = {
  what: 'PTRACE_SYSCALL_INFO op (none, entry, exit, seccomp)',
  lookup: (s) => ({ none: 0n, entry: 1n, exit: 2n, seccomp: 3n } as Record<string, bigint>)[s],
  names: () => ['none', 'entry', 'exit', 'seccomp'],
};

type EvIn = {
  stop: 'entry' | 'exit' | 'seccomp';
  args?: MatcherInput[];
  info?: Record<string, MatcherInput | MatcherInput[] | undefined>;
} & Record<string, unknown>;

/**
 * `events:` → checks. Register fields compare at the tracer's width: a 32-bit (i386) program's
 * tracer reads struct user_regs_struct of 32-bit fields; GET_SYSCALL_INFO fields are __u64.
 */
export function parsePtraceEvents(
  list: EvIn[], base: Path, regBits: 32 | 64, names: EventNames,
  matcher: (v: MatcherInput, p: Path, ns?: NameSpace) => Matcher | undefined,
): PtraceEventCheck[] {
  return list.map((e, i) => {
    const p: Path = [...base, i];
    const fields: PtraceEventCheck['fields'] = [];
    const add = (field: string, v: MatcherInput | undefined, sub: Path, bits: 32 | 64, ns?: NameSpace): void => {
      if (v === undefined) return;
      const m = matcher(v, sub, ns);
      if (m) fields.push({ field, m, bits });
    };
    add('sig', e.sig as MatcherInput | undefined, [...p, 'sig'], 32, names.signal);
    add('event', e.event as MatcherInput | undefined, [...p, 'event'], 32);
    add('orig_rax', e.orig_rax as MatcherInput | undefined, [...p, 'orig_rax'], regBits, names.syscall);
    // rax takes a syscall name too, resolved like orig_rax: a restarted call has the number back
    // in ax (handle_signal / arch_do_signal_or_restart: ip -= 2, ax = orig_ax, arch/x86/kernel/
    // signal.c) before the handler's frame is built, so the exit stop of that handler's
    // rt_sigreturn shows it (entry and seccomp stops show -ENOSYS, the entry code's pt_regs->ax).
    add('rax', e.rax as MatcherInput | undefined, [...p, 'rax'], regBits, names.syscall);
    for (const r of ['rip', 'rsp'] as const) add(r, e[r] as MatcherInput | undefined, [...p, r], regBits);
    (e.args ?? []).forEach((v, j) => add(`args.${j}`, v, [...p, 'args', j], regBits));
    add('eventmsg', e.eventmsg as MatcherInput | undefined, [...p, 'eventmsg'], 64);
    const info = e.info ?? {};
    const ip: Path = [...p, 'info'];
    add('info.op', info.op as MatcherInput | undefined, [...ip, 'op'], 32, OP_NS);
    add('info.arch', info.arch as MatcherInput | undefined, [...ip, 'arch'], 32, names.arch);
    add('info.nr', info.nr as MatcherInput | undefined, [...ip, 'nr'], 64, names.syscall);
    for (const f of ['instruction_pointer', 'stack_pointer', 'rval'] as const) add(`info.${f}`, info[f] as MatcherInput | undefined, [...ip, f], 64);
    for (const f of ['ret_data', 'is_error'] as const) add(`info.${f}`, info[f] as MatcherInput | undefined, [...ip, f], 32);
    ((info.args ?? []) as MatcherInput[]).forEach((v, j) => add(`info.args.${j}`, v, [...ip, 'args', j], 64));
    return { stop: e.stop, fields };
  });
}

/** A field of an observed stop by its check path ("args.2", "info.nr"). */
export function eventField(ev: Record<string, unknown>, path: string): bigint | undefined {
  let v: unknown = ev;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return undefined;
}
