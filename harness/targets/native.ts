// The `native` target: every Case on the running kernel, through the compiled probes run
// directly (no wrapper). Availability per ABI comes from host detection (harness/host.ts),
// so an i386 case on a kernel with ia32 off is a SKIP with the reason, not a failure.
// Cases with `ftrace` (issue 7, docs/ftrace.md) run after the others, one probe session per ABI
// and batch, inside one private tracing instance per target lifetime (harness/ftrace/capture.ts
// openTraceRun: made at the first traced batch, removed by close(), at exit or on a fatal
// signal); each case's events are told apart by its pid and user IP. The profile has the
// 'ftrace' feature only where tracefs is usable, so elsewhere they SKIP with the reason.

import { release } from 'node:os';
import type { Case, Observation, RunContext, Target } from '../contracts.js';
import { detectHostFacts } from '../host.js';
import type { Abi } from '../../abi/constants.js';
import { openTraceRun, type TraceRun } from '../ftrace/capture.js';
import { eventsForCases } from '../ftrace/events.js';
import { caseEvents, parseTrace, sawExec } from '../ftrace/parse.js';
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

  let ftRun: TraceRun | undefined;
  const failed = (c: Case, outcome: 'unsupported' | 'error', reason: string): Observation => ({ id: c.id, outcome, reason, before: {}, env: {} });

  /**
   * One probe session of traced cases (one ABI) in the run's instance. When the ring buffer
   * lost events the session is run again in halves, down to one case, so no case is judged on
   * a partial record.
   */
  async function captureGroup(run: TraceRun, probe: string, group: readonly Case[], ctx: RunContext): Promise<Observation[]> {
    const cap = await run.session((wrap) => runProbeSession(wrap([probe]), group, { signal: ctx.signal }));
    if (cap.lost > 0) {
      if (group.length > 1 && !ctx.signal?.aborted) {
        const h = Math.ceil(group.length / 2);
        return [...(await captureGroup(run, probe, group.slice(0, h), ctx)), ...(await captureGroup(run, probe, group.slice(h), ctx))];
      }
      return cap.value.map((o) => ({ ...o, outcome: 'error' as const, reason: `ftrace: the trace buffer lost ${cap.lost} events while this case ran, so its record may be partial` }));
    }
    const recs = parseTrace(cap.text);
    // Every probe start records execve's sys_enter: without one the pid filter did not follow the
    // probe, and an empty event list would pass `ftrace: []` for the wrong reason.
    if (!sawExec(recs)) {
      return cap.value.map((o) => (o.outcome === 'error' || o.outcome === 'timeout' ? o : { ...o, outcome: 'error' as const, reason: 'ftrace: the capture recorded no probe start (execve), so the pid filter did not follow the probe; events cannot be trusted' }));
    }
    const pidCount = new Map<string, number>();
    for (const o of cap.value) if (o.env.pid !== undefined) pidCount.set(String(o.env.pid), (pidCount.get(String(o.env.pid)) ?? 0) + 1);
    return cap.value.map((o) => {
      if (o.outcome === 'error' || o.outcome === 'unsupported' || o.outcome === 'timeout') return o;
      const pid = o.env.pid;
      if (pid === undefined) return { ...o, outcome: 'error', reason: 'ftrace: the probe did not report the case process pid, so its events cannot be told apart' };
      // Pids are the first half of the attribution: two cases of one session with one pid
      // (the pid space wrapped) cannot be told apart.
      if (pidCount.get(String(pid))! > 1) return { ...o, outcome: 'error', reason: `ftrace: two cases of one capture ran as pid ${pid}, so their events cannot be told apart` };
      // The case's call is the one whose user IP is the instruction after the entry; without
      // user stacks every event of the case process would count, so say so rather than guess.
      if (!run.userStacks) return { ...o, outcome: 'unsupported', reason: 'ftrace: options/userstacktrace cannot be set, so the case call\'s events cannot be told apart from the probe\'s' };
      const events = caseEvents(recs, Number(pid), o.env.next_ip);
      return { ...o, events: [...(o.events ?? []), ...events] };
    });
  }

  /** The ftrace cases of one run() call: one session per ABI in the run's instance. */
  async function runTraced(cases: readonly Case[], ctx: RunContext): Promise<Observation[]> {
    const out: Observation[] = new Array(cases.length);
    const tfs = locateTracefs();
    const byAbi = new Map<Abi, number[]>();
    cases.forEach((c, i) => byAbi.set(c.abi, [...(byAbi.get(c.abi) ?? []), i]));
    for (const [abi, idx] of byAbi) {
      const group = idx.map((i) => cases[i]!);
      let obs: Observation[];
      const av = (await inner.describe()).abis[abi];
      if (ctx.signal?.aborted) obs = group.map((c) => failed(c, 'error', 'run aborted'));
      else if (!av.ok) obs = group.map((c) => failed(c, 'unsupported', `${abi}: ${av.reason ?? 'not runnable'}`));
      else if (!tfs.ok) obs = group.map((c) => failed(c, 'unsupported', `ftrace capture not possible: ${tfs.reason}`));
      else {
        try {
          ftRun ??= openTraceRun(tfs.dir);
          ftRun.enable(eventsForCases(group));
          obs = await captureGroup(ftRun, probePath(probeDir, abi), group, ctx);
        } catch (e) {
          obs = group.map((c) => failed(c, 'error', `ftrace capture failed: ${(e as Error).message}`));
        }
      }
      idx.forEach((i, j) => {
        out[i] = obs[j]!;
        ctx.onObservation?.(obs[j]!);
      });
    }
    return out;
  }

  return {
    name: inner.name,
    describe: () => inner.describe(),
    async close() {
      ftRun?.close();
      ftRun = undefined;
      await inner.close?.();
    },
    async run(cases: readonly Case[], ctx: RunContext = {}): Promise<Observation[]> {
      const out: Observation[] = new Array(cases.length);
      const plain: number[] = [];
      const traced: number[] = [];
      cases.forEach((c, i) => (c.ftrace ? traced : plain).push(i));
      if (plain.length > 0) {
        const obs = await inner.run(plain.map((i) => cases[i]!), ctx);
        plain.forEach((i, j) => (out[i] = obs[j]!));
      }
      if (traced.length > 0) {
        const obs = await runTraced(traced.map((i) => cases[i]!), ctx);
        traced.forEach((i, j) => (out[i] = obs[j]!));
      }
      return out;
    },
  };
}
