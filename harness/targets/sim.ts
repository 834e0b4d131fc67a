// The `sim` target: runs Cases in-process on the reference simulator (sim/kernel over
// sim/cpu) under a named profile (sim/profiles.ts) or 'host' (this machine's profile), and
// can explain each case step by step (RunContext.explain → Observation.steps).

import type { Abi, Case, Observation, Profile, RunContext, Target, TargetInfo } from '../contracts.js';
import { DEFAULT_PROFILE, listProfiles, resolveProfile } from '../../sim/profiles.js';
import { runCase } from '../../sim/kernel/run.js';

export const SIM_VERSION = '0.1.0';

/** Which ABIs' programs the profile can run at all, and why not (x32 ENOEXEC, ia32 off). */
export function abiAvailability(p: Profile): Record<Abi, { ok: boolean; reason?: string }> {
  return {
    x86_64: { ok: true },
    i386: p.ia32 ? { ok: true } : { ok: false, reason: `ia32 emulation is off in sim profile ${p.name} (32-bit programs cannot run)` },
    x32: p.x32 ? { ok: true } : { ok: false, reason: `x32 is not configured in sim profile ${p.name} (x32 exec fails with ENOEXEC)` },
  };
}

export function createSimTarget(opts: { profile?: string } = {}): Target {
  const name = opts.profile ?? DEFAULT_PROFILE;
  // Refuse an unknown name now, with the list, rather than at the first describe()/run().
  if (!listProfiles().includes(name)) throw new Error(`unknown sim profile "${name}": expected one of ${listProfiles().join(', ')}`);
  let profile: Promise<Profile> | null = null;
  const getProfile = (): Promise<Profile> => (profile ??= resolveProfile(name));
  return {
    name: `sim:${name}`,
    async describe(): Promise<TargetInfo> {
      const p = await getProfile();
      return { name: `sim:${name}`, version: `sysabi-sim ${SIM_VERSION} (kernel ${p.kernel}, ${p.vendor})`, profile: p, abis: abiAvailability(p) };
    },
    async run(cases: readonly Case[], ctx: RunContext = {}): Promise<Observation[]> {
      const p = await getProfile();
      const out: Observation[] = [];
      for (const c of cases) {
        if (ctx.signal?.aborted) {
          out.push({ id: c.id, outcome: 'error', reason: 'run aborted', before: {}, env: {} });
          continue;
        }
        let o: Observation;
        try {
          o = runCase(c, p, { explain: ctx.explain === true });
        } catch (e) {
          // A simulator bug must not stop the run: the case fails with the reason.
          o = { id: c.id, outcome: 'error', reason: `simulator error: ${(e as Error).stack ?? String(e)}`, before: {}, env: {} };
        }
        ctx.onObservation?.(o);
        out.push(o);
      }
      return out;
    },
  };
}
