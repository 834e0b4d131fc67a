// check(): a case's expectation against what a target observed → Result with one diff per
// failing field, expected vs observed in hex (with decimal / errno / signal names where they
// help). Values compare at the register width of the case's code: 32-bit code compares the
// low 32 bits, so -EFAULT is 0xfffffff2 there and 0xfffffffffffffff2 in 64-bit code.
// `any_of` passes when one alternative (together with the common keys) holds; on failure
// the closest alternative's diffs are reported.

import { ERRNO, MAX_ERRNO, RFLAGS, SIGNALS, VSYSCALL_ADDR, type FlagName } from '../abi/constants.js';
import { REG32_ALIASES, type Diff, type Observation, type RegName, type Result, type Status } from './contracts.js';
import { hex } from './json.js';
import type { ExpandedCase, Expectation, ExpVal, Matcher, RegCheck } from './spec/types.js';
import { eventField } from './spec/ptrace.js';
import { notifField } from './spec/notify.js';
import { ftraceField } from './spec/ftrace.js';
import { parseCallRet, parseMemRef, readView } from './spec/results.js';
import { CALL_LIST_WORD } from './spec/setup.js';

const ERRNO_BY_NUM = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));
const SIGNAL_BY_NUM = new Map<number, string>(Object.entries(SIGNALS).map(([k, v]) => [v, k]));

/** "SIGSEGV" for 11, "signal 99" otherwise. */
export function signalName(n: number): string {
  return SIGNAL_BY_NUM.get(n) ?? `signal ${n}`;
}

/** A value for people: hex, and the decimal / errno reading when it helps. */
export function showValue(v: bigint, bits: 16 | 32 | 64 = 64): string {
  const u = BigInt.asUintN(bits, v);
  const s = BigInt.asIntN(bits, u);
  const h = hex(u);
  if (s < 0n && s >= -BigInt(MAX_ERRNO)) {
    const name = ERRNO_BY_NUM.get(Number(-s));
    return `${h} (${s}${name ? `, ${name}` : ''})`;
  }
  if (u >= 10n && u < 1_000_000n) return `${h} (${u})`;
  return h;
}

/** Sentinel to mark a fact the target did not report. */
class Missing {
  constructor(readonly what: string) {}
}

interface Ctx {
  ec: ExpandedCase;
  obs: Observation;
}

/** Resolve an expected value against the Observation; `reg` is the register `$in` refers to. */
function resolve(v: ExpVal, ctx: Ctx, reg?: RegName): bigint | Missing {
  if ('lit' in v) return v.lit;
  const env = ctx.obs.env ?? {};
  let base: bigint | undefined;
  let what: string = v.sym;
  switch (v.sym) {
    case 'pid': case 'tid': case 'ppid': case 'uid': case 'gid': case 'next_ip': case 'entry_ip': case 'unmapped':
      base = env[v.sym];
      break;
    case 'thread_tid':
      // Case.thread: the second thread's id, as clone returned it to the main thread.
      base = ctx.obs.thread?.tid;
      what = "the second thread's tid (reported only when the case has thread: and the main thread outlived it)";
      break;
    case 'rflags_in':
      // The RFLAGS value loaded before the entry: as read back by the target, else the Case's.
      base = ctx.obs.before?.rflags ?? ctx.ec.case.rflags;
      break;
    case 'buf':
      base = env.bufs?.[v.name!];
      what = `address of buffer ${v.name}`;
      break;
    case 'fd':
      base = env.fds?.[v.name!];
      what = `descriptor ${v.name}`;
      break;
    case 'extra':
      base = env.extra?.[v.name!];
      what = `fact ${v.name}`;
      break;
    case 'auxv':
      base = ctx.obs.auxv?.[v.name!];
      what = `auxv entry ${v.name}`;
      break;
    case 'setup': case 'after': {
      // Result symbols: the raw return of another call of the case (harness/spec/results.ts).
      const r = parseCallRet(v.sym, v.name, undefined);
      const n = 'n' in r ? r.n : -1;
      base = (v.sym === 'setup' ? ctx.obs.setup_ret : ctx.obs.after_ret)?.[n];
      what = `the return value of ${CALL_LIST_WORD[v.sym]} ${n + 1} (${v.sym === 'setup' ? 'Observation.setup_ret' : 'Observation.after_ret'})`;
      break;
    }
    case 'mem': {
      const r = parseMemRef(v.name);
      if ('msg' in r) break;
      const bytes = ctx.obs.memory?.[r.region];
      base = bytes === undefined ? undefined : readView(bytes, r, ctx.ec.case.abi);
      what = bytes === undefined ? `memory ${r.region} (not read back by the target)` : `${v.text} (region ${r.region} read back too short)`;
      break;
    }
    case 'in': {
      // `$in` is the checked register's own value before the call; `$in.REG` another's.
      const r = (v.name ? REG32_ALIASES[v.name] ?? v.name : reg) as RegName | undefined;
      base = r ? ctx.obs.before?.[r] : undefined;
      what = `${r ?? 'register'} before the call`;
      break;
    }
  }
  if (base === undefined) return new Missing(what);
  return base + v.add;
}

/** Symbolic text of an expected value ("$next_ip", "0x33"). */
function valText(v: ExpVal, bits: 16 | 32 | 64): string {
  if ('lit' in v) return v.name ? `${v.name} (${showValue(v.lit, bits)})` : showValue(v.lit, bits);
  return v.text;
}

/** How a matcher reads in words, without an Observation (explain uses this too). */
export function describeMatcher(m: Matcher, bits: 16 | 32 | 64 = 64): string {
  switch (m.kind) {
    case 'eq': return valText(m.v, bits);
    case 'errno': return `-${m.n} (${m.name}) = ${hex(BigInt.asUintN(bits, -BigInt(m.n)))}`;
    case 'ok': return `not an error (outside [-${MAX_ERRNO}, -1])`;
    case 'one_of': return `one of ${m.of.map((x) => describeMatcher(x, bits)).join(' | ')}`;
    case 'not': return `not ${describeMatcher(m.m, bits)}`;
    case 'range': return `in [${valText(m.lo, bits)}, ${valText(m.hi, bits)}]`;
    case 'min': return `>= ${valText(m.v, bits)}`;
    case 'max': return `<= ${valText(m.v, bits)}`;
    case 'mask': return `(x & ${hex(m.mask)}) == ${hex(m.eq)}`;
    case 'all': return m.of.map((x) => describeMatcher(x, bits)).join(' and ');
  }
}

interface Eval {
  ok: boolean;
  /** Expected, with symbols resolved where they could be. */
  expected: string;
  missing?: string;
}

function evalMatcher(m: Matcher, x: bigint, bits: 16 | 32 | 64, ctx: Ctx, reg?: RegName): Eval {
  const u = (v: bigint) => BigInt.asUintN(bits, v);
  const val = (v: ExpVal): bigint | Missing => resolve(v, ctx, reg);
  const show = (v: ExpVal, r: bigint): string => ('lit' in v ? valText(v, bits) : `${v.text} = ${showValue(r, bits)}`);
  switch (m.kind) {
    case 'eq': {
      const r = val(m.v);
      if (r instanceof Missing) return { ok: false, expected: valText(m.v, bits), missing: r.what };
      return { ok: u(x) === u(r), expected: show(m.v, r) };
    }
    case 'errno': {
      const want = u(-BigInt(m.n));
      return { ok: u(x) === want, expected: `${showValue(want, bits)}` };
    }
    case 'ok': {
      const s = BigInt.asIntN(bits, x);
      return { ok: !(s >= -BigInt(MAX_ERRNO) && s <= -1n), expected: describeMatcher(m, bits) };
    }
    case 'one_of': {
      const rs = m.of.map((o) => evalMatcher(o, x, bits, ctx, reg));
      const missing = rs.find((r) => r.missing)?.missing;
      return { ok: rs.some((r) => r.ok), expected: `one of ${rs.map((r) => r.expected).join(' | ')}`, ...(missing && !rs.some((r) => r.ok) ? { missing } : {}) };
    }
    case 'not': {
      const r = evalMatcher(m.m, x, bits, ctx, reg);
      return { ok: !r.ok && !r.missing, expected: `not ${r.expected}`, ...(r.missing ? { missing: r.missing } : {}) };
    }
    case 'range': case 'min': case 'max': {
      // Bounds compare unsigned at the register width (docs/spec-language.md).
      const lo = m.kind === 'range' ? val(m.lo) : m.kind === 'min' ? val(m.v) : 0n;
      const hi = m.kind === 'range' ? val(m.hi) : m.kind === 'max' ? val(m.v) : (1n << BigInt(bits)) - 1n;
      if (lo instanceof Missing) return { ok: false, expected: describeMatcher(m, bits), missing: lo.what };
      if (hi instanceof Missing) return { ok: false, expected: describeMatcher(m, bits), missing: hi.what };
      // Symbolic bounds keep their names ($setup.0.ret = 0x..): the reader sees which call set them.
      const exp = m.kind === 'range' ? `in [${show(m.lo, lo)}, ${show(m.hi, hi)}]`
        : m.kind === 'min' ? `>= ${show(m.v, lo)}` : `<= ${show(m.v, hi)}`;
      return { ok: u(x) >= u(lo) && u(x) <= u(hi), expected: exp };
    }
    case 'mask':
      return { ok: (u(x) & u(m.mask)) === u(m.eq), expected: describeMatcher(m, bits) };
    case 'all': {
      const rs = m.of.map((o) => evalMatcher(o, x, bits, ctx, reg));
      const missing = rs.find((r) => r.missing)?.missing;
      return { ok: rs.every((r) => r.ok), expected: rs.map((r) => r.expected).join(' and '), ...(missing ? { missing } : {}) };
    }
  }
}

/** A diff that carries whether it came from a fact the target did not report. */
type D = Diff & { missing?: boolean };

function checkValue(field: string, m: Matcher, x: bigint | undefined, bits: 16 | 32 | 64, ctx: Ctx, out: D[], reg?: RegName, show: (v: bigint) => string = (v) => showValue(v, bits)): void {
  if (x === undefined) {
    out.push({ field, expected: describeMatcher(m, bits), observed: '(not reported by the target)', missing: true });
    return;
  }
  const r = evalMatcher(m, x, bits, ctx, reg);
  if (r.ok) return;
  if (r.missing) {
    out.push({ field, expected: r.expected, observed: show(x), note: `the target did not report ${r.missing}`, missing: true });
    return;
  }
  out.push({ field, expected: r.expected, observed: show(x) });
}

/** The outcome an expectation asks for (explicit, or implied by its keys). */
export function wantedOutcome(e: Expectation): NonNullable<Expectation['outcome']> {
  return e.outcome ?? (e.signal ? 'signal' : e.killed ? 'killed' : e.exitCode ? 'exited'
    // Case.thread: a second thread that ended in its call, or a process killed as a whole.
    : e.threadEnded === 'killed' || e.process === 'killed' ? 'killed' : e.threadEnded === 'signal' ? 'signal' : 'returned');
}

/** What happened, in words: "signal SIGSEGV (si_code 1, addr 0x0, rip 0x401000)". */
export function describeOutcome(o: Observation): string {
  switch (o.outcome) {
    case 'returned': return 'returned';
    case 'signal': {
      const s = o.signal;
      if (!s) return 'signal (no details reported)';
      const parts = [`si_code ${s.code}`];
      if (s.addr !== undefined) parts.push(`addr ${hex(s.addr)}`);
      if (s.regs.rip !== undefined) parts.push(`rip ${hex(s.regs.rip)}`);
      return `signal ${signalName(s.signo)} (${parts.join(', ')})`;
    }
    case 'killed':
      // Case.thread: the second thread died alone and the main thread reported.
      if (o.thread && o.exit?.signal === undefined) return `the calling thread (tid ${o.thread.tid}) ended in its call; the process lived on`;
      return `killed by ${o.exit?.signal !== undefined ? signalName(o.exit.signal) : 'a signal'}`;
    case 'exited': return `exited with status ${o.exit?.code ?? '?'}`;
    default: return o.outcome + (o.reason ? `: ${o.reason}` : '');
  }
}

function regCheck(rc: RegCheck, file: Partial<Record<RegName, bigint>> | undefined, ctx: Ctx, out: D[], prefix = ''): void {
  checkValue(prefix + rc.field, rc.m, file?.[rc.reg], rc.bits, ctx, out, rc.reg);
}

/** Every diff of one expectation (already combined with the common keys). */
function evaluate(e: Expectation, ctx: Ctx): D[] {
  const { obs } = ctx;
  const out: D[] = [];
  const want = wantedOutcome(e);
  if (obs.outcome !== want) {
    out.push({ field: 'outcome', expected: want, observed: describeOutcome(obs) });
    return out;
  }
  for (const rc of e.regs) regCheck(rc, obs.after, ctx, out);
  if (e.preserved) {
    const bits = e.preserved.bits;
    for (const r of e.preserved.regs) {
      const b = obs.before?.[r];
      const a = obs.after?.[r];
      if (b === undefined || a === undefined) {
        out.push({ field: `preserved ${r}`, expected: 'unchanged', observed: `(${b === undefined ? 'before' : 'after'} value not reported by the target)`, missing: true });
      } else if (BigInt.asUintN(bits, a) !== BigInt.asUintN(bits, b)) {
        out.push({ field: `preserved ${r}`, expected: showValue(b, bits), observed: showValue(a, bits), note: `${r} changed across the call` });
      }
    }
  }
  if (e.flags) {
    const f = obs.after?.rflags;
    if (f === undefined) out.push({ field: 'rflags', expected: 'flags reported', observed: '(not reported by the target)', missing: true });
    else {
      for (const n of e.flags.set) if ((f & RFLAGS[n]) !== RFLAGS[n]) out.push({ field: `flags.${n}`, expected: 'set', observed: `clear (rflags ${hex(f)})` });
      for (const n of e.flags.clear) if ((f & RFLAGS[n]) !== 0n) out.push({ field: `flags.${n}`, expected: 'clear', observed: `set (rflags ${hex(f)})` });
    }
  }
  if (e.signal) {
    const s = obs.signal;
    const bits = ctx.ec.case.code === 'compat' ? 32 : 64;
    for (const { field, m } of e.signal.fields) {
      const x = s ? (s as unknown as Record<string, number | bigint | undefined>)[field] : undefined;
      const v = x === undefined ? undefined : BigInt(x);
      const show = field === 'signo' ? (n: bigint) => `${signalName(Number(n))} (${n})`
        : field === 'code' ? (n: bigint) => `${BigInt.asIntN(32, n)}` : field === 'errno' ? (n: bigint) => `${n}${ERRNO_BY_NUM.has(Number(n)) ? ` (${ERRNO_BY_NUM.get(Number(n))})` : ''}` : undefined;
      checkValue(`signal.${field}`, m, v, field === 'addr' ? bits : 32, ctx, out, undefined, show);
    }
    for (const rc of e.signal.regs) regCheck(rc, s?.regs, ctx, out, 'signal.');
  }
  if (e.killed) {
    const got = obs.exit?.signal;
    if (got !== e.killed.signo) out.push({ field: 'killed', expected: `${e.killed.name} (${e.killed.signo})`, observed: got === undefined ? '(no killing signal reported)' : `${signalName(got)} (${got})` });
  }
  if (e.exitCode) checkValue('exit_code', e.exitCode, obs.exit?.code === undefined ? undefined : BigInt(obs.exit.code), 32, ctx, out, undefined, (v) => String(v));
  if (e.traps) checkValue('traps', e.traps, BigInt(obs.traps ?? 0), 32, ctx, out, undefined, (v) => String(v));
  if (e.trapsIn || e.trapHandlerFlags) checkTrapLog(e, ctx, out);
  if (e.delivered) {
    const got = (obs.delivered ?? []).map((d) => d.signo);
    const want = e.delivered.map((d) => d.signo);
    if (got.length !== want.length || got.some((g, i) => g !== want[i])) {
      out.push({ field: 'delivered', expected: `[${e.delivered.map((d) => d.name).join(', ')}]`, observed: `[${got.map(signalName).join(', ')}]` });
    } else {
      // Same signals in the same order: now the flags around each handler (SS-02).
      e.delivered.forEach((d, i) => {
        const si = obs.delivered![i]!;
        if (d.handlerFlags) flagDiffs(`delivered.${i}.handler_flags`, d.handlerFlags, si.handler_rflags, out);
        if (d.flags) flagDiffs(`delivered.${i}.flags`, d.flags, si.regs.rflags, out);
        if (d.code) checkValue(`delivered.${i}.code`, d.code, BigInt(si.code), 32, ctx, out, undefined, (v) => String(v));
      });
    }
  }
  for (const mem of e.memory ?? []) {
    const got = obs.memory?.[mem.name];
    if (got === undefined) out.push({ field: `memory.${mem.name}`, expected: mem.hex, observed: '(not read back by the target)', missing: true });
    else if (!got.toLowerCase().startsWith(mem.hex)) {
      out.push({ field: `memory.${mem.name}`, expected: mem.text !== undefined ? `${JSON.stringify(mem.text)} (${mem.hex})` : mem.hex, observed: got.slice(0, Math.max(mem.hex.length, 32)), note: 'expected bytes are a prefix of the region' });
    }
  }
  // Typed views of read-back regions: u32/u64 words, timespec (ns) and timeval (us).
  for (const w of e.memWords ?? []) {
    const field = `memory.${w.name}.${w.view}${w.view === 'u32' || w.view === 'u64' ? `[${w.index}]` : ''}`;
    const bytes = obs.memory?.[w.name];
    const x = bytes === undefined ? undefined : readView(bytes, w, ctx.ec.case.abi);
    if (x === undefined) {
      out.push({ field, expected: describeMatcher(w.m, w.view === 'u32' ? 32 : 64), observed: bytes === undefined ? '(not read back by the target)' : '(region read back too short)', missing: true });
    } else {
      checkValue(field, w.m, x, w.view === 'u32' ? 32 : 64, ctx, out, undefined,
        (v) => (w.view === 'timespec' ? `${showValue(v)} ns` : w.view === 'timeval' ? `${showValue(v)} us` : showValue(v, w.view === 'u32' ? 32 : 64)));
    }
  }
  if (e.events || e.eventCount) checkEvents(e, ctx, out);
  if (e.ftrace) checkFtrace(e.ftrace, ctx, out);
  // After-call steps (Case.segs, Case.peek): a target that did not run them reports no `post`.
  if (e.peek) {
    const v = obs.post?.peek;
    if (v === undefined) out.push({ field: 'peek', expected: describeMatcher(e.peek, 64), observed: '(no peek value reported by the target)', missing: true });
    else checkValue('peek', e.peek, v, 64, ctx, out);
  }
  if (e.compatStack) {
    const v = obs.post?.compat_stack;
    if (v === undefined) out.push({ field: 'compat_stack', expected: describeMatcher(e.compatStack, 32), observed: '(no compat_stack value reported by the target)', missing: true });
    else checkValue('compat_stack', e.compatStack, v, 32, ctx, out);
  }
  if (e.seccompInstall) checkSeccompInstall(e.seccompInstall, ctx, out);
  if (e.threadEnded || e.process) checkThread(e, ctx, out);
  if (e.auxv || e.maps) checkAuxvMaps(e, ctx, out);
  if (e.notification) checkNotification(e.notification, ctx, out);
  for (const { seg, m } of e.segs ?? []) {
    const v = obs.post?.segs?.[seg];
    if (v === undefined) out.push({ field: `segs.${seg}`, expected: describeMatcher(m, 16), observed: '(selector after the load not reported by the target)', missing: true });
    else checkValue(`segs.${seg}`, m, v, 16, ctx, out);
  }
  return out;
}

/** expect.notification against Observation.notify (SC-04): what the supervisor received. */
function checkNotification(want: NonNullable<Expectation['notification']>, ctx: Ctx, out: D[]): void {
  const nt = ctx.obs.notify;
  if (nt === undefined) {
    out.push({ field: 'notification', expected: want.none ? 'none' : 'a notification', observed: '(no supervisor report from the target)', missing: true });
    return;
  }
  const got = nt.received;
  if (want.none) {
    if (got) out.push({ field: 'notification', expected: 'none (the supervisor receives nothing)', observed: `nr ${got.nr}, arch 0x${got.arch.toString(16)}` });
    return;
  }
  if (!got) { out.push({ field: 'notification', expected: 'a notification', observed: `none${nt.note ? ` (${nt.note})` : ''}` }); return; }
  for (const f of want.fields) checkValue(`notification.${f.field}`, f.m, notifField(got, f.field), f.bits, ctx, out);
  // The answer must have reached the kernel, or the call's result is not the script's.
  if (nt.send && (nt.send.ret < 0 || nt.send.errno !== 0)) {
    out.push({ field: 'notification.send', expected: 'SECCOMP_IOCTL_NOTIF_SEND succeeds', observed: `-1, ${ERRNO_BY_NUM.get(nt.send.errno) ?? 'errno'} (${nt.send.errno})` });
  }
}

/**
 * VD-01/VD-04: auxv entries and special mappings. A target that did not report the auxv (or the
 * maps) at all is a missing fact (error), never a pass of an `absent`. A mapping the kernel
 * shows as several lines (split by mprotect) is taken as one: the first start, the last end,
 * and every line's perms must match.
 */
function checkAuxvMaps(e: Expectation, ctx: Ctx, out: D[]): void {
  const { obs } = ctx;
  for (const a of e.auxv ?? []) {
    const field = `auxv.${a.key}`;
    if (!obs.auxv) { out.push({ field, expected: a.absent ? 'absent' : describeMatcher(a.m, 64), observed: '(auxv not reported by the target)', missing: true }); continue; }
    const v = obs.auxv[a.key];
    if (a.absent) {
      if (v !== undefined) out.push({ field, expected: 'absent', observed: hex(v), note: `the auxiliary vector has ${a.key}` });
    } else if (v === undefined) {
      out.push({ field, expected: describeMatcher(a.m, 64), observed: 'absent', note: `the auxiliary vector has no ${a.key}` });
    } else checkValue(field, a.m, v, 64, ctx, out);
  }
  for (const m of e.maps ?? []) {
    const field = `maps.${m.name}`;
    const label = `[${m.name}]`;
    if (!obs.maps) { out.push({ field, expected: m.absent ? 'absent' : `a ${label} line`, observed: '(maps not reported by the target)', missing: true }); continue; }
    const lines = obs.maps.filter((l) => l.name === label);
    if (m.absent) {
      if (lines.length > 0) out.push({ field, expected: 'absent', observed: lines.map((l) => `${hex(l.start)}-${hex(l.end)} ${l.perms}`).join(', '), note: `/proc/self/maps shows ${label}` });
      continue;
    }
    if (lines.length === 0) {
      out.push({ field, expected: `a ${label} line`, observed: 'absent', note: `/proc/self/maps has no ${label} line (it has ${obs.maps.map((l) => l.name).join(' ') || 'no bracketed line'})` });
      continue;
    }
    const start = lines[0]!.start;
    const end = lines[lines.length - 1]!.end;
    if (m.perms !== undefined) {
      const bad = lines.filter((l) => l.perms !== m.perms);
      if (bad.length > 0) out.push({ field: `${field}.perms`, expected: m.perms, observed: lines.map((l) => l.perms).join(', ') });
    }
    if (m.start) checkValue(`${field}.start`, m.start, start, 64, ctx, out);
    if (m.end) checkValue(`${field}.end`, m.end, end, 64, ctx, out);
    if (m.size) checkValue(`${field}.size`, m.size, end - start, 64, ctx, out);
  }
}

/** "ok" or "EINVAL (22)" for one seccomp install result. */
function installText(r: { ret: number; errno: number }): string {
  return r.errno === 0 && r.ret >= 0 ? 'ok' : `${ERRNO_BY_NUM.get(r.errno) ?? 'errno'} (${r.errno})`;
}

/** Observation.seccomp_install against expect.seccomp_install (SC-06): same length, in order. */
function checkSeccompInstall(want: NonNullable<Expectation['seccompInstall']>, ctx: Ctx, out: D[]): void {
  const got = ctx.obs.seccomp_install;
  if (got === undefined) {
    out.push({ field: 'seccomp_install', expected: want.map((w) => w.name).join(', '), observed: '(no install results reported by the target)', missing: true });
    return;
  }
  if (got.length !== want.length) {
    out.push({ field: 'seccomp_install', expected: `${want.length} install(s): ${want.map((w) => w.name).join(', ')}`, observed: `${got.length}: ${got.map(installText).join(', ')}` });
    return;
  }
  want.forEach((w, i) => {
    const g = got[i]!;
    if (w.threadTid) {
      // TSYNC refused: seccomp(2) returns the id of the thread that cannot be synced (not -1).
      const tid = ctx.obs.thread?.tid;
      if (tid === undefined || g.errno !== 0 || BigInt(g.ret) !== tid) {
        out.push({ field: `seccomp_install.${i}`, expected: `the second thread's tid (${tid ?? 'not reported'})`, observed: g.errno === 0 ? `ret ${g.ret}` : `${g.ret}, ${installText(g)}` });
      }
      return;
    }
    // Success is ret >= 0 (a NEW_LISTENER install returns the listener's fd); failure is -1/errno.
    // A TSYNC install succeeds with 0 only: a positive value is a sibling's tid, a refusal.
    const tsync = ((ctx.ec.case.seccomp?.opts?.[i]?.flags ?? 0) & 1) !== 0;
    const holds = w.errno === 0 ? g.ret >= 0 && g.errno === 0 && !(tsync && g.ret > 0) : g.ret === -1 && g.errno === w.errno;
    if (!holds) out.push({ field: `seccomp_install.${i}`, expected: w.errno === 0 ? 'ok' : `-1, ${w.name} (${w.errno})`, observed: g.errno === 0 && g.ret >= 0 ? `${tsync && g.ret > 0 ? 'TSYNC refused by thread' : 'ok (ret'} ${g.ret}${tsync && g.ret > 0 ? '' : ')'}` : `${g.ret}, ${installText(g)}` });
  });
}

/** expect.thread / expect.process against Observation.thread and the outcome (Case.thread). */
function checkThread(e: Expectation, ctx: Ctx, out: D[]): void {
  const { obs } = ctx;
  const t = obs.thread;
  const processDied = obs.outcome === 'killed' && obs.exit?.signal !== undefined;
  const seen = processDied ? `the process was killed by ${signalName(obs.exit!.signal!)}` : t ? `the main thread lived on; the calling thread ${t.ended}` : '(no thread report from the target)';
  if (e.process === 'alive' && !t) out.push({ field: 'process', expected: 'alive (the main thread reports after the calling thread ended)', observed: seen, ...(processDied ? {} : { missing: true }) });
  if (e.process === 'killed' && !processDied) out.push({ field: 'process', expected: 'killed by a signal (every thread)', observed: seen });
  if (e.threadEnded && !(e.threadEnded === 'killed' && processDied) && t?.ended !== e.threadEnded) {
    out.push({ field: 'thread', expected: e.threadEnded, observed: seen, ...(t || processDied ? {} : { missing: true }) });
  }
}

/** "sys_enter getpid, sys_exit getpid" for messages. */
function ftraceSeq(evs: Record<string, unknown>[]): string {
  return evs.map((v) => `${String(v.event)} ${String(v.name)}`).join(', ') || 'none';
}

/** The case's ftrace events against `ftrace:`: the exact list, in order (docs/ftrace.md). */
function checkFtrace(want: NonNullable<Expectation['ftrace']>, ctx: Ctx, out: D[]): void {
  if (ctx.obs.events === undefined) {
    out.push({ field: 'ftrace', expected: `${want.length} ftrace event(s)`, observed: '(no events reported by the target)', missing: true });
    return;
  }
  const got = ctx.obs.events.filter((ev) => ev.kind === 'ftrace') as Record<string, unknown>[];
  const seq = ftraceSeq(got);
  if (got.length !== want.length) {
    out.push({ field: 'ftrace', expected: `${want.length} event(s): ${want.map((w) => `${w.event}${w.name ? ' ' + w.name : ''}`).join(', ') || 'none'}`, observed: `${got.length}: ${seq}` });
  }
  want.forEach((w, i) => {
    const g = got[i];
    if (!g) return;
    if (g.event !== w.event) { out.push({ field: `ftrace.${i}.event`, expected: w.event, observed: `${String(g.event)} (events: ${seq})` }); return; }
    if (w.name !== undefined && g.name !== w.name) out.push({ field: `ftrace.${i}.name`, expected: w.name, observed: String(g.name) });
    if (w.argCount !== undefined) {
      const n = Array.isArray(g.args) ? g.args.length : 0;
      if (n !== w.argCount) out.push({ field: `ftrace.${i}.args`, expected: `${w.argCount} argument(s)`, observed: `${n} recorded`, note: 'the kernel records as many arguments as the syscall metadata declares' });
    }
    for (const f of w.fields) checkValue(`ftrace.${i}.${f.field}`, f.m, ftraceField(g, f.field), 64, ctx, out);
  });
}

/** The case's ptrace stops against `events:` (a prefix, in order) and `event_count:`. */
function checkEvents(e: Expectation, ctx: Ctx, out: D[]): void {
  const stops = (ctx.obs.events ?? []).filter((ev) => ev.kind === 'ptrace') as Record<string, unknown>[];
  if (ctx.obs.events === undefined) {
    out.push({ field: 'events', expected: 'ptrace stops reported', observed: '(no events reported by the target)', missing: true });
    return;
  }
  const seq = stops.map((s) => String(s.stop)).join(', ') || 'none';
  if (e.eventCount) checkValue('event_count', e.eventCount, BigInt(stops.length), 32, ctx, out, undefined, (v) => `${v} (stops: ${seq})`);
  (e.events ?? []).forEach((want, i) => {
    const got = stops[i];
    if (!got) { out.push({ field: `events.${i}`, expected: `a ${want.stop} stop`, observed: `only ${stops.length} stop(s): ${seq}` }); return; }
    if (got.stop !== want.stop) { out.push({ field: `events.${i}.stop`, expected: want.stop, observed: `${String(got.stop)} (stops: ${seq})` }); return; }
    for (const f of want.fields) checkValue(`events.${i}.${f.field}`, f.m, eventField(got, f.field), f.bits, ctx, out);
  });
}

/** `{set, clear}` against one RFLAGS value; an unreported value is a target defect (error). */
function flagDiffs(field: string, want: { set: FlagName[]; clear: FlagName[] }, f: bigint | undefined, out: D[]): void {
  if (f === undefined) {
    out.push({ field, expected: 'flags reported', observed: '(not reported by the target)', missing: true });
    return;
  }
  for (const n of want.set) if ((f & RFLAGS[n]) !== RFLAGS[n]) out.push({ field: `${field}.${n}`, expected: 'set', observed: `clear (rflags ${hex(f)})` });
  for (const n of want.clear) if ((f & RFLAGS[n]) !== 0n) out.push({ field: `${field}.${n}`, expected: 'clear', observed: `set (rflags ${hex(f)})` });
}

/**
 * `traps_in` and `trap_handler_flags` against Observation.trap_log. Ranges name addresses a
 * spec can know ($next_ip, $entry_ip, the vsyscall page, the vDSO), never the target's own
 * code: the native probe single-steps its own trampoline around the entry and the simulator
 * does not, so only counts inside named ranges compare between them. A logged trap without an
 * ip (the simulator's trap after the target's instruction at next_ip) lies in none of them.
 */
function checkTrapLog(e: Expectation, ctx: Ctx, out: D[]): void {
  const { obs } = ctx;
  const total = obs.traps ?? 0;
  const log = obs.trap_log ?? [];
  if (total > 0 && obs.trap_log === undefined) {
    out.push({ field: 'trap_log', expected: 'where each single-step trap hit', observed: `(${total} traps, but the target reported no trap_log)`, missing: true });
    return;
  }
  for (const { range, m } of e.trapsIn ?? []) {
    // A truncated log cannot give a count: say so rather than guess (TRAP_LOG_MAX).
    if (log.length < total) {
      out.push({ field: `traps_in.${range}`, expected: describeMatcher(m, 32), observed: `(only the first ${log.length} of ${total} traps were logged)`, missing: true });
      continue;
    }
    let inRange: (ip: bigint) => boolean;
    let what: string;
    if (range === 'vsyscall_page') {
      inRange = (ip) => ip >= VSYSCALL_ADDR && ip < VSYSCALL_ADDR + 0x1000n;
      what = `[${hex(VSYSCALL_ADDR)}, +0x1000)`;
    } else if (range === 'vdso') {
      const base = obs.env.extra?.vdso;
      const size = obs.env.extra?.vdso_size;
      if (!base || !size) {
        out.push({ field: 'traps_in.vdso', expected: describeMatcher(m, 32), observed: '(the target reported no vDSO range: $extra.vdso and $extra.vdso_size)', missing: true });
        continue;
      }
      inRange = (ip) => ip >= base && ip < base + size;
      what = `[${hex(base)}, ${hex(base + size)})`;
    } else {
      const at = obs.env[range];
      if (at === undefined) {
        out.push({ field: `traps_in.${range}`, expected: describeMatcher(m, 32), observed: `(the target did not report $${range})`, missing: true });
        continue;
      }
      inRange = (ip) => ip === at;
      what = `$${range} = ${hex(at)}`;
    }
    const n = log.filter((t) => t.ip !== undefined && inRange(t.ip)).length;
    const where = log.map((t) => (t.ip === undefined ? '?' : hex(t.ip))).slice(0, 16).join(' ');
    checkValue(`traps_in.${range}`, m, BigInt(n), 32, ctx, out, undefined, (v) => `${v} in ${what} (trap ips: ${where}${log.length > 16 ? ' …' : ''})`);
  }
  if (e.trapHandlerFlags) {
    if (log.length === 0) {
      out.push({ field: 'trap_handler_flags', expected: 'at least one single-step trap', observed: `none (traps: ${total})` });
      return;
    }
    // Every logged trap: the kernel clears the same flags for each handler it starts.
    // Only the first trap that differs is reported, so a run of 30 identical traps stays readable.
    for (let i = 0; i < log.length; i++) {
      const before = out.length;
      flagDiffs(`trap_log.${i}.handler_flags`, e.trapHandlerFlags, log[i]!.handler_rflags, out);
      if (out.length > before) break;
    }
  }
}

/** Common keys ∧ one alternative. */
function conj(top: Expectation, alt: Expectation): Expectation {
  const e: Expectation = { ...top, ...stripUndef(alt), regs: [...top.regs, ...alt.regs] };
  delete e.anyOf;
  if (top.signal && alt.signal) e.signal = { fields: [...top.signal.fields, ...alt.signal.fields], regs: [...top.signal.regs, ...alt.signal.regs] };
  if (top.flags && alt.flags) e.flags = { set: [...top.flags.set, ...alt.flags.set], clear: [...top.flags.clear, ...alt.flags.clear] };
  if (top.memory && alt.memory) e.memory = [...top.memory, ...alt.memory];
  if (top.memWords && alt.memWords) e.memWords = [...top.memWords, ...alt.memWords];
  if (top.segs && alt.segs) e.segs = [...top.segs, ...alt.segs];
  if (top.preserved && alt.preserved) {
    e.preserved = { ...alt.preserved, regs: [...new Set([...top.preserved.regs, ...alt.preserved.regs])] };
  }
  return e;
}
function stripUndef<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function summary(diffs: readonly Diff[]): string {
  if (diffs.length === 1) {
    const d = diffs[0]!;
    return `${d.field}: expected ${d.expected}, observed ${d.observed}`;
  }
  return `${diffs.length} mismatches: ${diffs.map((d) => d.field).join(', ')}`;
}

/** Check one case's Observation. `target` names the target for the Result. */
export function check(ec: ExpandedCase, obs: Observation, target: string): Result {
  const base = { caseId: ec.case.id, specId: ec.spec.id, abi: ec.case.abi, target, observation: obs };
  const res = (status: Status, diffs: Diff[], reason?: string): Result =>
    ({ ...base, status, diffs, ...(reason !== undefined ? { reason } : {}) });
  if (ec.skipReason !== undefined) return res('skip', [], ec.skipReason);
  switch (obs.outcome) {
    case 'unsupported':
      return res('skip', [], obs.reason ?? 'the target cannot run this case');
    case 'error':
      return res('error', [], obs.reason ?? 'the target could not run the case (no reason given)');
    case 'timeout':
      return res('fail', [{ field: 'outcome', expected: wantedOutcome(ec.expect), observed: `timeout after ${ec.case.timeoutMs} ms` }],
        `timeout: no result within ${ec.case.timeoutMs} ms${obs.reason ? ` (${obs.reason})` : ''}`);
    default:
      break;
  }
  const ctx: Ctx = { ec, obs };
  // A seccomp install the spec did not say would be refused leaves the case running in a set-up
  // it did not ask for: an error (as before SC-06 made refusals observable), not a verdict.
  // A TSYNC install (SECCOMP_FILTER_FLAG_TSYNC = 1) that returns a positive tid was refused too.
  const refused = (obs.seccomp_install ?? []).findIndex((r, i) => r.ret < 0 || r.errno !== 0
    || (r.ret > 0 && ((ec.case.seccomp?.opts?.[i]?.flags ?? 0) & 1) !== 0));
  const specified = [ec.expect, ...(ec.expect.anyOf ?? []).map((a) => a.exp)].some((e) => e.seccompInstall !== undefined);
  if (refused >= 0 && !specified) {
    const r = obs.seccomp_install![refused]!;
    return res('error', [], `seccomp install ${refused} was refused: ${r.ret > 0 && r.errno === 0 ? `TSYNC returned thread ${r.ret}, which it could not sync` : installText(r)}; the case's set-up did not happen (say expect.seccomp_install if the refusal is what the case tests)`);
  }
  const alts = ec.expect.anyOf && ec.expect.anyOf.length > 0
    ? ec.expect.anyOf.map((a) => ({ why: a.why, e: conj(ec.expect, a.exp) }))
    : [{ why: undefined, e: ec.expect }];
  let best: { diffs: D[]; why: string | undefined; i: number } | undefined;
  for (let i = 0; i < alts.length; i++) {
    const diffs = evaluate(alts[i]!.e, ctx);
    if (diffs.length === 0) return res('pass', []);
    if (!best || diffs.length < best.diffs.length) best = { diffs, why: alts[i]!.why, i };
  }
  const diffs = best!.diffs.map(({ missing: _m, ...d }) => d);
  let reason = summary(diffs);
  if (alts.length > 1) reason += ` (closest of ${alts.length} any_of alternatives: #${best!.i + 1}${best!.why ? ` "${best!.why}"` : ''})`;
  // Only facts the target failed to report: a harness/target defect, not a verdict on the ABI.
  const status: Status = best!.diffs.every((d) => d.missing) ? 'error' : 'fail';
  return res(status, diffs, reason);
}

