// The `seccomp:` key of a case turned into Case.seccomp: `strict`, or a list of filters each
// written as cBPF mnemonics (harness/seccomp/asm.ts), a rule list (harness/seccomp/rules.ts),
// a generated program of N instructions or a NULL program pointer (SC-06), optionally with how
// it is installed (no_new_privs, flags, repeat) and a final `strict` (filter → strict, SC-06);
// or `{filters, listener, notify}`: the same list with a listener fd and a supervisor (SC-04).
// Compiling here, at expansion time, gives every target the very same instructions and lets
// a bad program be reported at its file:line:col like any other spec error.

import type { Abi } from '../../abi/constants.js';
import type { BpfInsn, SeccompInstallOpts, SeccompSetup } from '../contracts.js';
import { assemble, BpfAsmError } from '../seccomp/asm.js';
import { compileRules, RuleError, type Rule, type DefaultRule } from '../seccomp/rules.js';
import { BPF_ABS, BPF_K, BPF_LD, BPF_RET, BPF_W, SECCOMP_FILTER_FLAG, SECCOMP_RET } from '../seccomp/uapi.js';
import type { Path } from './doc.js';
import { buildNotify } from './notify.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** Spec names of SECCOMP_FILTER_FLAG_* (include/uapi/linux/seccomp.h). */
export const FILTER_FLAG_NAMES: Record<string, number> = {
  tsync: SECCOMP_FILTER_FLAG.TSYNC,
  log: SECCOMP_FILTER_FLAG.LOG,
  spec_allow: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  new_listener: SECCOMP_FILTER_FLAG.NEW_LISTENER,
  tsync_esrch: SECCOMP_FILTER_FLAG.TSYNC_ESRCH,
  wait_killable_recv: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** Installs beyond this are refused at load time: the kernel's path limit (32768 / (1 + 4))
 *  is reached long before, and the probe holds at most 64 programs (probes/seccomp.h). */
const MAX_INSTALLS = 64;
/** Longer than any program the kernel could take (BPF_MAXINSNS 4096), short enough to send. */
const MAX_GENERATED = 65535;

/**
 * A valid program of `n` instructions: n-1 × `ld [nr]`, then `ret #ALLOW` (n = 0: empty).
 * Loads are the cheapest instruction seccomp_check_filter accepts, so only the length matters.
 */
export function generatedProgram(n: number): BpfInsn[] {
  if (n === 0) return [];
  const ld: BpfInsn = { code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: 0 };
  const prog: BpfInsn[] = Array.from({ length: n - 1 }, () => ({ ...ld }));
  prog.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: SECCOMP_RET.ALLOW >>> 0 });
  return prog;
}

/** YAML integers arrive as bigint; the rule compiler takes numbers or strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** A small non-negative count from the spec (bigint or a numeric string). */
function count(v: unknown, max: number): number | string {
  let n: bigint;
  try {
    n = typeof v === 'bigint' ? v : BigInt(String(v).replace(/_/g, ''));
  } catch {
    return `expected a whole number, found ${JSON.stringify(v)}`;
  }
  if (n < 0n || n > BigInt(max)) return `expected 0..${max}, found ${n}`;
  return Number(n);
}

/**
 * `tableAbi` names the table `__NR_name` resolves in for mnemonics written without `@abi`
 * (the table the case's entry is decoded with: int $0x80 from 64-bit code → i386).
 */
export function buildSeccomp(input: unknown, tableAbi: Abi, fail: Fail): SeccompSetup | undefined {
  if (input === undefined) return undefined;
  if (input === 'strict') return { mode: 'strict', filters: [] };
  if (!Array.isArray(input)) {
    // SC-04: `{filters, listener, notify}` (harness/spec/notify.ts); errors point into filters.
    const o = input as { filters: unknown; listener?: boolean; notify?: unknown };
    const inner: Fail = (p, msg, key) => fail(['seccomp', 'filters', ...p.slice(1)], msg, key);
    const setup = buildSeccomp(o.filters, tableAbi, inner);
    if (!setup || setup.mode !== 'filter') return setup;
    const last = setup.filters.length - 1;
    if (o.listener) {
      if (setup.thenStrict) { fail(['seccomp', 'listener'], 'listener: true with a final strict: strict after filters is refused anyway (EINVAL), so there would be nothing to supervise'); return undefined; }
      const opts = setup.opts ?? setup.filters.map(() => undefined);
      opts[last] = { ...opts[last], flags: (opts[last]?.flags ?? 0) | SECCOMP_FILTER_FLAG.NEW_LISTENER };
      setup.opts = opts;
    }
    if (o.notify !== undefined) {
      const hasListener = (setup.opts ?? []).some((x) => ((x?.flags ?? 0) & SECCOMP_FILTER_FLAG.NEW_LISTENER) !== 0);
      if (!hasListener) { fail(['seccomp', 'notify'], 'notify needs a listener: say listener: true (or flags: [new_listener] on a filter)', true); return undefined; }
      const n = buildNotify(o.notify, ['seccomp', 'notify'], fail);
      if (!n) return undefined;
      setup.notify = n;
    }
    return setup;
  }
  const filters: BpfInsn[][] = [];
  const opts: (SeccompInstallOpts | undefined)[] = [];
  let thenStrict = false;
  let ok = true;
  const items = input as (Record<string, unknown> | 'strict')[];
  items.forEach((f, i) => {
    if (f === 'strict') {
      // Strict after filters is the SC-06 refusal; strict first would be killed at the next
      // seccomp(2) call (not on the strict list), so only the last place makes sense.
      if (i !== items.length - 1 || i === 0) {
        ok = false;
        fail(['seccomp', i], i !== items.length - 1
          ? 'strict may only be the last item (after the filters): a process in strict mode is killed by its next seccomp(2) call'
          : 'a lone strict is written `seccomp: strict`, not as a list item');
      }
      thenStrict = true;
      return;
    }
    let prog: BpfInsn[] | undefined;
    let nullProgram = false;
    if ('bpf' in f) {
      try {
        prog = assemble(f.bpf as string[], { abi: tableAbi });
      } catch (e) {
        if (!(e instanceof BpfAsmError)) throw e;
        ok = false;
        // Each list item is one source line: point at it, and give the column inside it.
        fail(['seccomp', i, 'bpf', e.line - 1], `filter ${i}, instruction ${e.line}, column ${e.col}: ${e.detail}`);
      }
    } else if ('rules' in f) {
      try {
        prog = compileRules(plain(f.rules) as (Rule | DefaultRule)[]);
      } catch (e) {
        ok = false;
        if (e instanceof RuleError) fail(['seccomp', i, 'rules', e.index], `filter ${i}, rule ${e.index}: ${e.detail}`);
        else fail(['seccomp', i, 'rules'], `filter ${i}: ${(e as Error).message}`);
      }
    } else if ('generate' in f) {
      const n = count(f.generate, MAX_GENERATED);
      if (typeof n === 'string') { ok = false; fail(['seccomp', i, 'generate'], `filter ${i}: generate: ${n} instructions`); }
      else prog = generatedProgram(n);
    } else {
      // `program: null`: the pointer itself is NULL (how libseccomp probes flag support).
      nullProgram = true;
      prog = [];
    }
    let repeat = 1;
    if (f.repeat !== undefined) {
      const n = count(f.repeat, MAX_INSTALLS);
      if (typeof n === 'string' || n === 0) { ok = false; fail(['seccomp', i, 'repeat'], `filter ${i}: repeat: ${typeof n === 'string' ? n : 'expected at least 1'}`); }
      else repeat = n;
    }
    const o: SeccompInstallOpts = {};
    if (f.no_new_privs === false) o.noNewPrivs = false;
    const flags = ((f.flags as string[] | undefined) ?? []).reduce((m, n) => m | FILTER_FLAG_NAMES[n]!, 0);
    if (flags) o.flags = flags;
    if (nullProgram) o.nullProgram = true;
    if (prog === undefined) return;
    for (let r = 0; r < repeat; r++) {
      filters.push(prog);
      opts.push(Object.keys(o).length ? o : undefined);
    }
  });
  if (filters.length > MAX_INSTALLS) {
    ok = false;
    fail(['seccomp'], `${filters.length} filters (after repeat): at most ${MAX_INSTALLS} (the kernel's path limit refuses far fewer)`);
  }
  if (!ok) return undefined;
  const setup: SeccompSetup = { mode: 'filter', filters };
  if (opts.some((o) => o !== undefined)) setup.opts = opts;
  if (thenStrict) setup.thenStrict = true;
  return setup;
}
