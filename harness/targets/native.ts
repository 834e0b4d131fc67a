// The `native` target: every Case on the running kernel, through the compiled probes run
// directly (no wrapper). Availability per ABI comes from host detection (harness/host.ts),
// so an i386 case on a kernel with ia32 off is a SKIP with the reason, not a failure.
// Cases with `ftrace` (issue 7, docs/ftrace.md) run one at a time, each in its own probe
// process inside a private tracing instance (harness/ftrace/capture.ts); the profile has the
// 'ftrace' feature only where tracefs is usable, so elsewhere they SKIP with the reason.

import { release } from 'node:os';
import type { Case, Observation, RunContext, Target } from '../contracts.js';
import { detectHostFacts } from '../host.js';
import { withInstance } from '../ftrace/capture.js';
import { caseEvents, parseTrace } from '../ftrace/parse.js';
import { locateTracefs } from '../ftrace/tracefs.js';
import { createProbeTarget, defaultProbeDir, probePath, runProbeSession } from './probe-runner.js';

export function createNativeTarget(opts: { probeDir?: string } = {}): Target {
  const probeDir = opts.probeDir ?? defaultProbeDir();
  const facts = () => detectHostFacts({ probeDir });
  const inner = createProbeTarget({
    name: 'native',
    version: `linux ${release()}`,
    probeDir,
    // host.ts decides the 'ftrace' feature with the same tracefs test the capture uses.
    describeProfile: async () => (await facts()).profile,
    abiAvailability: async (abi) => (await facts()).abis[abi],
  });

  /** One ftrace case: its own probe process in its own tracing instance. */
  async function runTraced(c: Case, ctx: RunContext): Promise<Observation> {
    const fail = (outcome: 'unsupported' | 'error', reason: string): Observation => ({ id: c.id, outcome, reason, before: {}, env: {} });
    const av = (await inner.describe()).abis[c.abi];
    if (!av.ok) return fail('unsupported', `${c.abi}: ${av.reason ?? 'not runnable'}`);
    const tfs = locateTracefs();
    if (!tfs.ok) return fail('unsupported', `ftrace capture not possible: ${tfs.reason}`);
    let cap: Awaited<ReturnType<typeof withInstance<Observation[]>>>;
    try {
      cap = await withInstance(tfs.dir, (inst) => runProbeSession(inst.wrap([probePath(probeDir, c.abi)]), [c], { signal: ctx.signal }));
    } catch (e) {
      return fail('error', `ftrace capture failed: ${(e as Error).message}`);
    }
    const o = cap.value[0]!;
    if (o.outcome === 'error' || o.outcome === 'unsupported' || o.outcome === 'timeout') return o;
    const pid = o.env.pid;
    if (pid === undefined) return { ...o, outcome: 'error', reason: 'ftrace: the probe did not report the case process pid, so its events cannot be told apart' };
    // The case's call is the one whose user IP is the instruction after the entry; without user
    // stacks every event of the case process would count, so say so rather than guess.
    if (!cap.userStacks) return { ...o, outcome: 'unsupported', reason: 'ftrace: options/userstacktrace cannot be set, so the case call\'s events cannot be told apart from the probe\'s' };
    const events = caseEvents(parseTrace(cap.text), Number(pid), o.env.next_ip);
    return { ...o, events: [...(o.events ?? []), ...events] };
  }

  return {
    name: inner.name,
    describe: () => inner.describe(),
    ...(inner.close ? { close: () => inner.close!() } : {}),
    async run(cases: readonly Case[], ctx: RunContext = {}): Promise<Observation[]> {
      const out: Observation[] = new Array(cases.length);
      const plain: number[] = [];
      const traced: number[] = [];
      cases.forEach((c, i) => (c.ftrace ? traced : plain).push(i));
      if (plain.length > 0) {
        const obs = await inner.run(plain.map((i) => cases[i]!), ctx);
        plain.forEach((i, j) => (out[i] = obs[j]!));
      }
      // Serially: each capture owns its instance and probe process.
      for (const i of traced) {
        const o = ctx.signal?.aborted
          ? { id: cases[i]!.id, outcome: 'error' as const, reason: 'run aborted', before: {}, env: {} }
          : await runTraced(cases[i]!, ctx);
        out[i] = o;
        ctx.onObservation?.(o);
      }
      return out;
    },
  };
}
