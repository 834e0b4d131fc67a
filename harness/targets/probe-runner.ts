// Runs the compiled C probes (probes/build/probe-<abi>) for any target that executes them:
// the native kernel, or an emulator given as a wrapper command (`wrap(abi, probe) → argv`).
// Cases go to the probe on stdin in the line protocol of docs/probe-protocol.md; each
// answer line is parsed strictly. A crash, hang, early exit, garbage or oversized output
// turns the case in flight into a failed Observation, the probe is restarted for the rest,
// and the run goes on (DESIGN.md principle 6).

import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ABIS } from '../../abi/constants.js';
import {
  GPRS64, REG_NAMES,
  type Abi, type Case, type Observation, type Operand, type Outcome, type Profile, type RegFile,
  type PtraceScript, type PtraceStopEvent, type PtraceStopKind, type PtraceSyscallInfo,
  type RunContext, type SignalInfo, type Target, type TargetInfo,
} from '../contracts.js';
import { DATA_SEGS, TRAP_LOG_MAX, type TrapHit } from '../contracts.js';
import type { NotifyObservation } from '../contracts.js';

export interface ProbeTargetOptions {
  name: string;
  version?: string;
  /** argv that runs `probe` for `abi` (e.g. ['qemu-i386', probe]); null: this target cannot run that ABI. */
  wrap?: (abi: Abi, probe: string) => string[] | null;
  describeProfile?: () => Promise<Profile>;
  /** Extra per-ABI availability (the native target adds kernel facts: ia32 off, x32 not built). */
  abiAvailability?: (abi: Abi) => Promise<{ ok: boolean; reason?: string }>;
  /** Where probe-<abi> live; default probes/build of this checkout (or $SYSABI_PROBE_DIR). */
  probeDir?: string;
  /** Longest answer line accepted, in bytes (default 8 MiB). */
  maxLineBytes?: number;
  /** Slack on top of a case's timeoutMs before the harness kills a silent probe (default 1500). */
  graceMs?: number;
  /** Extra environment for the probe, e.g. SYSABI_EXEC_WRAPPER so `exec` cases run the exec
   *  program under the same emulator (docs/probe-protocol.md). */
  env?: (abi: Abi) => Record<string, string>;
}

const OUTCOMES: readonly Outcome[] = ['returned', 'signal', 'exited', 'killed', 'timeout', 'error', 'unsupported'];
const REG_SET: ReadonlySet<string> = new Set(REG_NAMES);
const HEXVAL = /^0x[0-9a-f]+$/;

/** probes/build of this checkout: harness/targets → ../../probes/build. */
export function defaultProbeDir(): string {
  const env = process.env.SYSABI_PROBE_DIR;
  if (env) return resolve(env);
  const here = dirname(fileURLToPath(import.meta.url));
  // Works from the sources (harness/targets) and from the build (dist/harness/targets).
  for (const up of ['../..', '../../..']) {
    const d = resolve(here, up, 'probes/build');
    if (existsSync(resolve(here, up, 'probes/probes.mk'))) return d;
  }
  return resolve(here, '../../probes/build');
}

export function probePath(probeDir: string, abi: Abi): string {
  return join(probeDir, `probe-${abi}`);
}

/** Whether probe-<abi> was built, and if not why (probes.mk leaves probe-<abi>.missing). */
export function probeBuilt(probeDir: string, abi: Abi): { ok: boolean; reason?: string } {
  const p = probePath(probeDir, abi);
  if (existsSync(p)) return { ok: true };
  const missing = `${p}.missing`;
  if (existsSync(missing)) return { ok: false, reason: `probe not built: ${readFileSync(missing, 'utf8').trim()}` };
  return { ok: false, reason: `probe not built: ${p} does not exist (run \`make probes\`)` };
}

// ------------------------------------------------------------------ encoding

/** Percent-encode anything outside a safe set, so ids and names never contain spaces. */
const SAFE = /^[A-Za-z0-9._~/@:+=,!()*[\]-]+$/;

export function pct(s: string): string {
  if (s === '') return '-';
  if (s !== '-' && SAFE.test(s)) return s; // the common case: nothing to escape
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~/@:+=,!()*[\]-]/.test(ch) && !(s === '-' && ch === '-') ? ch : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function h64(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

function operand(o: Operand): string {
  const ref = o.ref ?? 'lit';
  return `${ref} ${pct(o.name ?? '')} ${h64(o.lit ?? 0n)} ${h64(o.add ?? 0n)} ${h64(o.or ?? 0n)}`;
}

/** A Case in the probe's line protocol (docs/probe-protocol.md), ending with "end\n". */
export function encodeCase(c: Case): string {
  const l: string[] = [
    `case ${pct(c.id)}`,
    `entry ${c.entry}`,
    `code ${c.code}`,
    `nr ${h64(c.nr)}`,
    `rflags ${h64(c.rflags)}`,
    `isolate ${c.isolate ? 1 : 0}`,
    `timeout ${Math.max(1, Math.min(3_600_000, Math.round(c.timeoutMs)))}`,
  ];
  for (const r of GPRS64) {
    const o = c.regs[r];
    if (o) l.push(`reg ${r} ${operand(o)}`);
  }
  for (const m of c.memory) {
    const at = m.at === undefined ? '-' : h64(m.at);
    l.push(`mem ${pct(m.name)} ${m.size} ${m.prot} ${m.place} ${at} ${m.readback ? 1 : 0} ${m.fill & 0xff} ${m.hex === '' ? '-' : m.hex.toLowerCase()}`);
  }
  for (const f of c.fds) l.push(`fd ${pct(f.name)} ${f.kind} ${f.hex === '' ? '-' : f.hex.toLowerCase()}`);
  // `sig N D restart`: the disposition is installed with SA_RESTART (Case.signals.restart).
  const restart = new Set(c.signals.restart ?? []);
  for (const [sig, disp] of Object.entries(c.signals.actions)) l.push(`sig ${sig} ${disp}${restart.has(Number(sig)) ? ' restart' : ''}`);
  for (const s of c.signals.blocked) l.push(`block ${s}`);
  if (c.symbol !== undefined) l.push(`symbol ${pct(c.symbol)}`);
  if (c.vsyscallAddr !== undefined) l.push(`vsyscall ${h64(c.vsyscallAddr)}`);
  if (c.placeNextIp !== undefined) l.push(`nextip ${h64(c.placeNextIp)}`);
  // VD-01/VD-04 (probes/maps.c): report the auxv and/or the special mappings after the call.
  if (c.observe && c.observe.length > 0) l.push(`observe ${c.observe.join(',')}`);
  // After-call steps (issue 6, probes/post.h): `segs SEG 0xSEL` per selector, `peek SEG|- OPERAND`.
  for (const [sg, v] of Object.entries(c.segs ?? {})) if (v !== undefined) l.push(`segs ${sg} ${h64(v)}`);
  if (c.peek) l.push(`peek ${c.peek.seg ?? '-'} ${operand(c.peek.addr)}`);
  // RG-06 (probes/contend.c): the compat push/pop step and the contention rounds.
  if (c.compatStack !== undefined) l.push(`cstack ${h64(c.compatStack)}`);
  if (c.contend) l.push(`contend ${c.contend.repeat}`);
  // RT-04 (probes/hwbp.c): an instruction breakpoint on the instruction the entry returns to.
  if (c.breakpoint) l.push(`hwbp ${c.breakpoint.at}`);
  // Set-up calls (probes/setup.c): `setup I NR NAME ERRNO NARGS [int80]` (ERRNO 0: must not
  // fail; int80: from 64-bit code), then `setarg I J OPERAND` per argument.
  c.setup?.forEach((s, i) => {
    l.push(`setup ${i} ${h64(s.nr)} ${pct(s.name)} ${s.expectErrno ?? 0} ${s.args.length}${s.entry ? ` ${s.entry}` : ''}`);
    s.args.forEach((a, j) => l.push(`setarg ${i} ${j} ${operand(a)}`));
  });
  // Case.after (probes/setup.c): the same pair as `after I ...` / `afterarg I J OPERAND`.
  c.after?.forEach((s, i) => {
    l.push(`after ${i} ${h64(s.nr)} ${pct(s.name)} ${s.expectErrno ?? 0} ${s.args.length}${s.entry ? ` ${s.entry}` : ''}`);
    s.args.forEach((a, j) => l.push(`afterarg ${i} ${j} ${operand(a)}`));
  });
  // Instructions before the entry (probes/before.c): `before INSN reg NAME` or `before INSN val 0xV`,
  // one line each, in the order they run.
  for (const b of c.before ?? []) l.push(b.reg !== undefined ? `before ${b.insn} reg ${b.reg}` : `before ${b.insn} val ${h64(b.value ?? 0n)}`);
  // seccomp (issue 7, probes/seccomp.c): `seccomp strict`, or one `filter N HEX` line per
  // program in install order, 16 hex digits per struct sock_filter (code jt jf k).
  // SC-06: `filterx FLAGS NNP N HEX|null` when a filter is installed otherwise than by the
  // recipe (flags, no NO_NEW_PRIVS, a NULL program, an empty one); `seccomp then-strict` last.
  if (c.seccomp?.mode === 'strict') l.push('seccomp strict');
  else if (c.seccomp) {
    c.seccomp.filters.forEach((f, n) => {
      const o = c.seccomp!.opts?.[n];
      const hex = f.length === 0 ? '-' : f.map((i) => i.code.toString(16).padStart(4, '0') + i.jt.toString(16).padStart(2, '0')
        + i.jf.toString(16).padStart(2, '0') + (i.k >>> 0).toString(16).padStart(8, '0')).join('');
      if (o === undefined && f.length > 0) l.push(`filter ${f.length} ${hex}`);
      else l.push(`filterx ${((o?.flags ?? 0) >>> 0).toString(16)} ${o?.noNewPrivs === false ? 0 : 1} ${o?.nullProgram ? 'null' : `${f.length} ${hex}`}`);
    });
    if (c.seccomp.thenStrict) l.push('seccomp then-strict');
    // SC-04 (probes/notify.c): the supervisor's answer, `notify error ERRNO|val HEX|continue`.
    const r = c.seccomp.notify?.respond;
    if (r) l.push(r.kind === 'error' ? `notify error ${r.errno}` : r.kind === 'val' ? `notify val ${BigInt.asUintN(64, r.val).toString(16)}` : 'notify continue');
  }
  // Case.thread (probes/thread.c): `thread before|after` (when the main thread installs the
  // filters above), then `tfilter N HEX` per filter the second thread installs for itself.
  if (c.thread) {
    l.push(`thread ${c.thread.mainSeccomp}`);
    for (const f of c.thread.seccomp ?? []) {
      l.push(`tfilter ${f.length} ${f.map((i) => i.code.toString(16).padStart(4, '0') + i.jt.toString(16).padStart(2, '0')
        + i.jf.toString(16).padStart(2, '0') + (i.k >>> 0).toString(16).padStart(8, '0')).join('')}`);
    }
  }
  if (c.sigreturn) {
    for (const [r, o] of Object.entries(c.sigreturn)) if (o) l.push(`sret ${r} ${operand(o)}`);
  }
  if (c.ptrace) encodePtrace(c.ptrace, l);
  l.push('end', '');
  return l.join('\n');
}

/** ptrace (issue 7, probes/ptrace.c): `ptrace OPTIONS MODE`, then per action `ptact STOP N`
 *  and its `ptset STOP N REG HEX`, `ptrewind STOP N`, `ptkill STOP N SIG` lines. */
function encodePtrace(p: PtraceScript, l: string[]): void {
  const opts = [p.options.includes('tracesysgood') ? 'sysgood' : '', p.options.includes('traceseccomp') ? 'seccomp' : ''].filter(Boolean);
  l.push(`ptrace ${opts.join(',') || '-'} ${p.mode}`);
  for (const a of p.at) {
    const at = `${a.stop} ${a.n}`;
    l.push(`ptact ${at}`);
    for (const [r, v] of Object.entries(a.set)) if (v !== undefined) l.push(`ptset ${at} ${r} ${h64(v)}`);
    if (a.rewind) l.push(`ptrewind ${at}`);
    if (a.kill) l.push(`ptkill ${at} ${a.kill}`);
  }
}

// ------------------------------------------------------------------ decoding

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Register values repeat a lot between cases (sentinels, selectors, flags, addresses of
// the stubs): validated conversions are remembered, which halves the decoding cost.
/** `notify` (SC-04, probes/notify.c): struct seccomp_notif as received, SEND's result, a note. */
function notifyObs(v: unknown): NotifyObservation {
  if (!isObj(v)) throw new ProtocolError('notify: expected an object');
  const out: NotifyObservation = {};
  if (v.received !== undefined) {
    const r = v.received;
    if (!isObj(r) || !Array.isArray(r.args) || r.args.length !== 6) throw new ProtocolError('notify.received: expected an object with 6 args');
    out.received = {
      id: big(r.id, 'notify.received.id'), pid: BigInt(int(r.pid, 'notify.received.pid')), flags: int(r.flags, 'notify.received.flags'),
      nr: int(r.nr, 'notify.received.nr'), arch: int(r.arch, 'notify.received.arch'), instruction_pointer: big(r.ip, 'notify.received.ip'),
      args: r.args.map((a, i) => big(a, `notify.received.args[${i}]`)),
    };
  }
  if (v.send !== undefined) {
    if (!isObj(v.send)) throw new ProtocolError('notify.send: expected an object');
    out.send = { ret: int(v.send.ret, 'notify.send.ret'), errno: int(v.send.errno, 'notify.send.errno') };
  }
  if (v.note !== undefined) {
    if (typeof v.note !== 'string') throw new ProtocolError('notify.note: expected a string');
    out.note = v.note;
  }
  return out;
}

const bigCache = new Map<string, bigint>();

function big(v: unknown, where: string, key?: string): bigint {
  if (typeof v === 'string') {
    const hit = bigCache.get(v);
    if (hit !== undefined) return hit;
    if (HEXVAL.test(v)) {
      const b = BigInt(v);
      if (bigCache.size >= 8192) bigCache.clear();
      bigCache.set(v, b);
      return b;
    }
  }
  throw new ProtocolError(`${key === undefined ? where : `${where}.${key}`}: expected a "0x…" hex string, found ${JSON.stringify(v)}`);
}

function int(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ProtocolError(`${where}: expected an integer, found ${JSON.stringify(v)}`);
  return v;
}

function regFile(v: unknown, where: string): RegFile {
  if (!isObj(v)) throw new ProtocolError(`${where}: expected an object of registers`);
  const out: RegFile = {};
  for (const k in v) {
    if (!REG_SET.has(k)) throw new ProtocolError(`${where}: unknown register "${k}"`);
    out[k as keyof RegFile] = big(v[k], where, k);
  }
  return out;
}

function hexMap(v: unknown, where: string): Record<string, bigint> {
  if (!isObj(v)) throw new ProtocolError(`${where}: expected an object`);
  const out: Record<string, bigint> = {};
  for (const k in v) out[k] = big(v[k], where, k);
  return out;
}

function sigInfo(v: unknown, where: string): SignalInfo {
  if (!isObj(v)) throw new ProtocolError(`${where}: expected an object`);
  const s: SignalInfo = {
    signo: int(v.signo, `${where}.signo`),
    code: int(v.code, `${where}.code`),
    errno: int(v.errno, `${where}.errno`),
    regs: regFile(v.regs ?? {}, `${where}.regs`),
  };
  if (v.addr !== undefined) s.addr = big(v.addr, `${where}.addr`);
  if (v.syscall !== undefined) s.syscall = int(v.syscall, `${where}.syscall`);
  if (v.arch !== undefined) s.arch = int(v.arch, `${where}.arch`);
  if (v.trapno !== undefined) s.trapno = int(v.trapno, `${where}.trapno`);
  if (v.err !== undefined) s.err = big(v.err, `${where}.err`);
  if (v.hflags !== undefined) s.handler_rflags = big(v.hflags, where, 'hflags');
  return s;
}

/** `trap_log` (probes/traps.c): where each single-step trap hit and its handler's flags. */
function trapLog(v: unknown): TrapHit[] {
  if (!Array.isArray(v)) throw new ProtocolError('trap_log: expected an array');
  if (v.length > TRAP_LOG_MAX) throw new ProtocolError(`trap_log: at most ${TRAP_LOG_MAX} traps, found ${v.length}`);
  return v.map((t, i) => {
    const w = `trap_log[${i}]`;
    if (!isObj(t)) throw new ProtocolError(`${w}: expected an object`);
    const hit: TrapHit = {};
    if (t.ip !== undefined) hit.ip = big(t.ip, w, 'ip');
    if (t.hflags !== undefined) hit.handler_rflags = big(t.hflags, w, 'hflags');
    return hit;
  });
}

const STOPS: readonly string[] = ['entry', 'exit', 'seccomp'];

/** One ptrace stop as probes/ptrace.c reports it (the PtraceStopEvent shape), checked field by field. */
function ptraceEvent(v: unknown, where: string): PtraceStopEvent {
  if (!isObj(v)) throw new ProtocolError(`${where}: expected an object`);
  if (v.kind !== 'ptrace') throw new ProtocolError(`${where}.kind: expected "ptrace", found ${JSON.stringify(v.kind)}`);
  if (typeof v.stop !== 'string' || !STOPS.includes(v.stop)) throw new ProtocolError(`${where}.stop: expected entry, exit or seccomp, found ${JSON.stringify(v.stop)}`);
  const list = (x: unknown, w: string): bigint[] => {
    if (!Array.isArray(x) || x.length > 6) throw new ProtocolError(`${w}: expected up to six hex values`);
    return x.map((a, i) => big(a, w, String(i)));
  };
  const ev: PtraceStopEvent = {
    kind: 'ptrace', stop: v.stop as PtraceStopKind, sig: int(v.sig, `${where}.sig`), event: int(v.event, `${where}.event`),
    orig_rax: big(v.orig_rax, where, 'orig_rax'), rax: big(v.rax, where, 'rax'), rip: big(v.rip, where, 'rip'),
    rsp: big(v.rsp, where, 'rsp'), args: list(v.args, `${where}.args`), eventmsg: big(v.eventmsg, where, 'eventmsg'),
  };
  if (v.info !== undefined) {
    const i = v.info;
    const w = `${where}.info`;
    if (!isObj(i)) throw new ProtocolError(`${w}: expected an object`);
    const info: PtraceSyscallInfo = {
      op: int(i.op, `${w}.op`), arch: int(i.arch, `${w}.arch`),
      instruction_pointer: big(i.instruction_pointer, w, 'instruction_pointer'), stack_pointer: big(i.stack_pointer, w, 'stack_pointer'),
    };
    if (i.nr !== undefined) info.nr = big(i.nr, w, 'nr');
    if (i.args !== undefined) info.args = list(i.args, `${w}.args`);
    if (i.ret_data !== undefined) info.ret_data = int(i.ret_data, `${w}.ret_data`);
    if (i.rval !== undefined) info.rval = big(i.rval, w, 'rval');
    if (i.is_error !== undefined) info.is_error = int(i.is_error, `${w}.is_error`);
    ev.info = info;
  }
  return ev;
}

const ENV_IDS = ['pid', 'tid', 'ppid', 'uid', 'gid', 'entry_ip', 'next_ip', 'unmapped'] as const;

/** Parse one answer line for case `c`; throws ProtocolError saying what is wrong. */
export function decodeObservation(line: string, c: Case): Observation {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolError(`not JSON: ${JSON.stringify(line.slice(0, 120))}`);
  }
  if (!isObj(v)) throw new ProtocolError(`expected a JSON object, found ${JSON.stringify(line.slice(0, 120))}`);
  if (v.id !== c.id) throw new ProtocolError(`answer for ${JSON.stringify(v.id)} where ${JSON.stringify(c.id)} was expected`);
  if (!OUTCOMES.includes(v.outcome as Outcome)) throw new ProtocolError(`unknown outcome ${JSON.stringify(v.outcome)}`);
  const o: Observation = { id: c.id, outcome: v.outcome as Outcome, before: regFile(v.before ?? {}, 'before'), env: {} };
  if (v.reason !== undefined) {
    if (typeof v.reason !== 'string') throw new ProtocolError('reason: expected a string');
    o.reason = v.reason;
  }
  if (v.after !== undefined) o.after = regFile(v.after, 'after');
  if (v.signal !== undefined) o.signal = sigInfo(v.signal, 'signal');
  if (v.traps !== undefined) o.traps = int(v.traps, 'traps');
  if (v.trap_log !== undefined) o.trap_log = trapLog(v.trap_log);
  if (v.delivered !== undefined) {
    if (!Array.isArray(v.delivered)) throw new ProtocolError('delivered: expected an array');
    o.delivered = v.delivered.map((d, i) => sigInfo(d, `delivered[${i}]`));
  }
  if (v.exit !== undefined) {
    if (!isObj(v.exit)) throw new ProtocolError('exit: expected an object');
    o.exit = {};
    if (v.exit.code !== undefined) o.exit.code = int(v.exit.code, 'exit.code');
    if (v.exit.signal !== undefined) o.exit.signal = int(v.exit.signal, 'exit.signal');
  }
  if (v.memory !== undefined) {
    if (!isObj(v.memory)) throw new ProtocolError('memory: expected an object');
    o.memory = {};
    for (const k in v.memory) {
      const m = v.memory[k];
      if (typeof m !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(m)) throw new ProtocolError(`memory.${k}: expected lowercase hex bytes`);
      o.memory[k] = m;
    }
  }
  if (v.events !== undefined) {
    if (!Array.isArray(v.events)) throw new ProtocolError('events: expected an array');
    o.events = v.events.map((e, i) => ptraceEvent(e, `events[${i}]`));
  } else if (c.ptrace && (o.outcome === 'returned' || o.outcome === 'signal' || o.outcome === 'killed' || o.outcome === 'exited')) {
    // The tracer attached (the case ran) but no stop was recorded: an empty list, so that
    // `event_count: 0` can hold and `events:` fails with "only 0 stops".
    o.events = [];
  }
  if (v.notify !== undefined) o.notify = notifyObs(v.notify);
  if (v.seccomp_install !== undefined) {
    if (!Array.isArray(v.seccomp_install)) throw new ProtocolError('seccomp_install: expected an array');
    o.seccomp_install = v.seccomp_install.map((r, i) => {
      if (!isObj(r)) throw new ProtocolError(`seccomp_install[${i}]: expected an object`);
      return { ret: int(r.ret, `seccomp_install[${i}].ret`), errno: int(r.errno, `seccomp_install[${i}].errno`) };
    });
  }
  if (v.thread !== undefined) {
    // Case.thread: the main thread's report of the second thread (docs/probe-protocol.md).
    if (!isObj(v.thread)) throw new ProtocolError('thread: expected an object');
    const ended = v.thread.ended;
    if (ended !== 'returned' && ended !== 'signal' && ended !== 'killed') throw new ProtocolError(`thread.ended: expected returned, signal or killed, found ${JSON.stringify(ended)}`);
    o.thread = { tid: big(v.thread.tid, 'thread.tid'), ended };
  }
  if (v.post !== undefined) {
    if (!isObj(v.post)) throw new ProtocolError('post: expected an object');
    o.post = {};
    if (v.post.segs !== undefined) {
      const m = hexMap(v.post.segs, 'post.segs');
      for (const k in m) if (!(DATA_SEGS as readonly string[]).includes(k)) throw new ProtocolError(`post.segs: unknown selector "${k}"`);
      o.post.segs = m;
    }
    if (v.post.peek !== undefined) o.post.peek = big(v.post.peek, 'post.peek');
    if (v.post.compat_stack !== undefined) o.post.compat_stack = big(v.post.compat_stack, 'post.compat_stack');
  }
  // Raw results of the set-up calls and after-calls, in order (`$setup.N.ret`, `$after.N.ret`).
  for (const k of ['setup_ret', 'after_ret'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (!Array.isArray(x) || x.length > 8) throw new ProtocolError(`${k}: expected an array of up to 8 hex values`);
    o[k] = x.map((r, i) => big(r, `${k}[${i}]`));
  }
  // VD-01/VD-04 (probes/maps.c): `auxv` by AT_* name, `maps` the bracketed lines.
  if (v.auxv !== undefined) o.auxv = hexMap(v.auxv, 'auxv');
  if (v.maps !== undefined) {
    if (!Array.isArray(v.maps)) throw new ProtocolError('maps: expected an array');
    o.maps = v.maps.map((m, i) => {
      if (!isObj(m) || typeof m.name !== 'string' || typeof m.perms !== 'string' || !/^[r-][w-][x-][ps]$/.test(m.perms)) {
        throw new ProtocolError(`maps[${i}]: expected {name, start, end, perms: "rwxp"-style}`);
      }
      return { name: m.name, start: big(m.start, `maps[${i}].start`), end: big(m.end, `maps[${i}].end`), perms: m.perms };
    });
  }
  if (!isObj(v.env)) throw new ProtocolError('env: expected an object');
  const env = v.env;
  for (const k of ENV_IDS) if (env[k] !== undefined) o.env[k] = big(env[k], 'env', k);
  if (env.bufs !== undefined) o.env.bufs = hexMap(env.bufs, 'env.bufs');
  if (env.fds !== undefined) o.env.fds = hexMap(env.fds, 'env.fds');
  if (env.extra !== undefined) o.env.extra = hexMap(env.extra, 'env.extra');
  return o;
}

function isElf(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    closeSync(fd);
    return b.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

function failed(c: Case, outcome: 'error' | 'timeout' | 'unsupported', reason: string): Observation {
  return { id: c.id, outcome, reason, before: {}, env: {} };
}

// ------------------------------------------------------------------ one probe process

interface SessionOptions {
  env?: Record<string, string>;
  maxLineBytes: number;
  graceMs: number;
  signal?: AbortSignal;
  onObservation?: (o: Observation) => void;
}

/**
 * Run `cases` through one probe process; returns how many cases it settled (≥ 1 unless
 * aborted): answered ones, plus the one in flight when the probe failed.
 */
async function runOnce(argv: string[], cases: readonly Case[], out: Observation[], base: number, so: SessionOptions): Promise<number> {
  const totalBudget = cases.reduce((s, c) => s + c.timeoutMs, 0) + so.graceMs * 4 + 10_000;
  const child = execa(argv[0]!, argv.slice(1), {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    detached: true, // its own process group, so a kill reaches the probe and anything it forked
    timeout: totalBudget,
    killSignal: 'SIGKILL',
    stripFinalNewline: false,
    ...(so.env ? { env: so.env } : {}),
    ...(so.signal ? { cancelSignal: so.signal } : {}),
  });
  let k = 0; // next case to be answered
  let pending = '';
  let stderrTail = '';
  let failure: { outcome: 'error' | 'timeout'; reason: string } | undefined;
  let last = Date.now();

  const killAll = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  const fail = (outcome: 'error' | 'timeout', reason: string): void => {
    if (failure || k >= cases.length) return;
    failure = { outcome, reason };
    killAll();
  };
  const onLine = (line: string): void => {
    if (failure) return;
    if (k >= cases.length) {
      fail('error', `probe printed more lines than cases: ${JSON.stringify(line.slice(0, 120))}`);
      return;
    }
    const c = cases[k]!;
    try {
      const o = decodeObservation(line, c);
      out[base + k] = o;
      k++;
      last = Date.now();
      so.onObservation?.(o);
    } catch (e) {
      fail('error', `probe answered garbage: ${(e as Error).message}`);
    }
  };

  // Cases are encoded and written in batches while the probe already runs the first ones,
  // with back-pressure; EPIPE after the probe died is expected (its exit is the report).
  const stdin = child.stdin!;
  stdin.on('error', () => {});
  let sent = 0;
  const pump = (): void => {
    while (sent < cases.length) {
      let chunk = '';
      const end = Math.min(cases.length, sent + 128);
      for (; sent < end; sent++) chunk += encodeCase(cases[sent]!);
      if (!stdin.write(chunk)) {
        stdin.once('drain', pump);
        return;
      }
    }
    stdin.end();
  };
  pump();

  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      const piece = chunk.slice(start, nl);
      const line = pending ? pending + piece : piece;
      pending = '';
      if (line.length > so.maxLineBytes) fail('error', `probe output line of ${line.length} bytes exceeds the ${so.maxLineBytes}-byte limit`);
      else if (line !== '') onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending += chunk.slice(start);
      if (pending.length > so.maxLineBytes) {
        fail('error', `probe output line exceeds the ${so.maxLineBytes}-byte limit`);
        pending = '';
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderrTail = (stderrTail + s).slice(-2000);
  });
  // The probe enforces isolated cases' limits itself; this catches in-process hangs and a
  // probe that stopped answering. One timer per session, not one per case.
  const watchdog = setInterval(() => {
    if (failure || k >= cases.length) return;
    const c = cases[k]!;
    const limit = c.timeoutMs + so.graceMs;
    if (Date.now() - last > limit) {
      fail('timeout', `no answer within ${limit} ms (case limit ${c.timeoutMs} ms + ${so.graceMs} ms grace): probe killed`);
    }
  }, Math.min(100, Math.max(10, so.graceMs / 4)));

  const res = await child;
  clearInterval(watchdog);
  if (!failure && pending !== '') onLine(pending);
  if (k >= cases.length) return k;
  if (so.signal?.aborted) {
    for (let i = k; i < cases.length; i++) out[base + i] = failed(cases[i]!, 'error', 'run aborted');
    return cases.length;
  }
  const c = cases[k]!;
  let why: { outcome: 'error' | 'timeout'; reason: string };
  if (failure) {
    why = failure;
  } else if (res.timedOut) {
    why = { outcome: 'timeout', reason: `probe exceeded the session budget of ${totalBudget} ms and was killed` };
  } else {
    if (k === 0 && res.exitCode === 2 && /Syntax error|not found|cannot execute/.test(stderrTail) && isElf(argv[0]!)) {
      // libuv's execvp hands an ELF the kernel refused (ENOEXEC) to /bin/sh.
      const o = failed(cases[0]!, 'error', `probe could not be executed: the kernel refused ${argv[0]} (Exec format error; /bin/sh then tried it as a script)`);
      out[base] = o;
      so.onObservation?.(o);
      return 1;
    }
    const how = res.signal ? `was killed by ${res.signal}` : `exited with code ${res.exitCode ?? '?'}`;
    const errText = stderrTail.trim() || (res as { originalMessage?: string }).originalMessage || '';
    why = { outcome: 'error', reason: `probe ${how} before answering this case${errText ? `; stderr: ${errText.slice(-300)}` : ''}` };
  }
  const o = failed(c, why.outcome, why.reason);
  out[base + k] = o;
  so.onObservation?.(o);
  return k + 1;
}

/** All cases of one ABI through one probe, restarted as often as it fails. */
export async function runProbeSession(argv: string[], cases: readonly Case[], opts: Partial<SessionOptions> = {}): Promise<Observation[]> {
  const so: SessionOptions = { env: opts.env, maxLineBytes: opts.maxLineBytes ?? 8 << 20, graceMs: opts.graceMs ?? 1500, signal: opts.signal, onObservation: opts.onObservation };
  const out: Observation[] = new Array(cases.length);
  let done = 0;
  while (done < cases.length) {
    if (so.signal?.aborted) {
      for (let i = done; i < cases.length; i++) out[i] = failed(cases[i]!, 'error', 'run aborted');
      break;
    }
    done += await runOnce(argv, cases.slice(done), out, done, so);
  }
  return out;
}

// ------------------------------------------------------------------ the target

export function createProbeTarget(opts: ProbeTargetOptions): Target {
  const probeDir = opts.probeDir ?? defaultProbeDir();
  const wrap = opts.wrap ?? ((_abi: Abi, probe: string) => [probe]);
  let info: Promise<TargetInfo> | undefined;

  async function availability(abi: Abi): Promise<{ ok: boolean; reason?: string }> {
    const built = probeBuilt(probeDir, abi);
    if (!built.ok) return built;
    if (wrap(abi, probePath(probeDir, abi)) === null) return { ok: false, reason: `${opts.name} cannot run ${abi} code` };
    if (opts.abiAvailability) return opts.abiAvailability(abi);
    return { ok: true };
  }

  return {
    name: opts.name,
    describe() {
      info ??= (async () => {
        const profile = opts.describeProfile
          ? await opts.describeProfile()
          : { name: opts.name, kernel: '0.0', vendor: 'unknown' as const, ia32: false, x32: false, vsyscall: 'none' as const, fred: false, features: [] };
        const abis = {} as TargetInfo['abis'];
        for (const abi of ABIS) abis[abi] = await availability(abi);
        return { name: opts.name, version: opts.version ?? 'unknown', profile, abis };
      })();
      return info;
    },
    async run(cases: readonly Case[], ctx: RunContext = {}): Promise<Observation[]> {
      const out: Observation[] = new Array(cases.length);
      const byAbi = new Map<Abi, number[]>();
      cases.forEach((c, i) => {
        const l = byAbi.get(c.abi) ?? [];
        l.push(i);
        byAbi.set(c.abi, l);
      });
      for (const [abi, all] of byAbi) {
        const idx = all;
        if (idx.length === 0) continue;
        const av = await availability(abi);
        const argv = av.ok ? wrap(abi, probePath(probeDir, abi)) : null;
        if (!av.ok || !argv) {
          for (const i of idx) {
            out[i] = failed(cases[i]!, 'unsupported', `${abi}: ${av.reason ?? 'not runnable'}`);
            ctx.onObservation?.(out[i]!);
          }
          continue;
        }
        const obs = await runProbeSession(argv, idx.map((i) => cases[i]!), {
          env: opts.env?.(abi),
          maxLineBytes: opts.maxLineBytes,
          graceMs: opts.graceMs,
          signal: ctx.signal,
          onObservation: ctx.onObservation,
        });
        idx.forEach((i, j) => (out[i] = obs[j]!));
      }
      return out;
    },
  };
}
