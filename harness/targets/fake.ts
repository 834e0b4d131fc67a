// A test-only target: it answers each Case with a scripted Observation, so the harness's
// own tests can drive every path (pass, fail, signal, timeout, crash, garbage) without a
// simulator or a kernel. Not registered as a command-line target; reach it with
// `--target module:<file that calls createFakeTarget>`.

import type { Abi, Case, Observation, Profile, RunContext, Target, TargetInfo } from '../contracts.js';

/** What the script returns for one case: an Observation (id filled in) or a misbehaviour. */
export type FakeAnswer =
  | Partial<Observation>
  | { throw: string } // the whole run() call throws
  | { garbage: unknown }; // this element of the answer array is replaced by the value

export interface FakeOptions {
  name?: string;
  version?: string;
  profile?: Partial<Profile>;
  /** ABIs the target cannot run (→ SKIP with this reason). */
  noAbi?: Partial<Record<Abi, string>>;
  /** Per case id (exact) or a function of the Case. Missing → a plain `returned` with rax = 0. */
  script?: Record<string, FakeAnswer> | ((c: Case) => FakeAnswer);
  /** describe() throws this message. */
  describeThrows?: string;
  /** run() returns this many fewer Observations than asked (a broken target). */
  dropLast?: number;
  /** Extra delay per run() call in ms (for abort/progress tests). */
  delayMs?: number;
}

export const FAKE_PROFILE: Profile = {
  name: 'fake',
  kernel: '7.0',
  vendor: 'intel',
  ia32: true,
  x32: false,
  vsyscall: 'xonly',
  fred: false,
  features: ['seccomp', 'ptrace'],
};

export interface FakeTarget extends Target {
  /** Every batch run() received, in call order (ids only). */
  readonly batches: string[][];
  closed: boolean;
}

export function createFakeTarget(opts: FakeOptions = {}): FakeTarget {
  const batches: string[][] = [];
  const answer = (c: Case): FakeAnswer => {
    const s = opts.script;
    if (typeof s === 'function') return s(c);
    return s?.[c.id] ?? { outcome: 'returned', after: { rax: 0n } };
  };
  const t: FakeTarget = {
    name: opts.name ?? 'fake',
    batches,
    closed: false,
    async describe(): Promise<TargetInfo> {
      if (opts.describeThrows) throw new Error(opts.describeThrows);
      const abis = {} as TargetInfo['abis'];
      for (const a of ['x86_64', 'i386', 'x32'] as const) {
        const why = opts.noAbi?.[a];
        abis[a] = why ? { ok: false, reason: why } : { ok: true };
      }
      return { name: t.name, version: opts.version ?? '1.0', profile: { ...FAKE_PROFILE, ...opts.profile }, abis };
    },
    async run(cases: readonly Case[], ctx?: RunContext): Promise<Observation[]> {
      batches.push(cases.map((c) => c.id));
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const out: unknown[] = [];
      for (const c of cases) {
        const a = answer(c);
        if ('throw' in a) throw new Error(a.throw as string);
        if ('garbage' in a) {
          out.push(a.garbage);
          continue;
        }
        const o: Observation = { id: c.id, outcome: 'returned', before: {}, env: {}, ...a } as Observation;
        if (ctx?.explain && !o.steps) o.steps = [`fake: ran ${c.id}`];
        ctx?.onObservation?.(o);
        out.push(o);
      }
      return out.slice(0, out.length - (opts.dropLast ?? 0)) as Observation[];
    },
    async close() {
      t.closed = true;
    },
  };
  return t;
}
