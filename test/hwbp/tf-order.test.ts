// TF together with an instruction breakpoint on the return address, in the simulator
// (sim/kernel/run.ts afterReturn, sim/cpu/debug.ts singleStepTrap): the breakpoint is a fault
// raised before the instruction runs and TF traps only after one, so the perf SIGTRAP comes
// first and no single step is counted for an instruction that never ran. With RF in a sigreturn
// frame the breakpoint is skipped once, the instruction runs, and then its single step follows.
import t from 'tap';
import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { DR6_BS, singleStepTrap } from '../../sim/cpu/debug.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const TF_RFLAGS = 0x202n | RFLAGS.TF;

for (const name of ['linux-7.0-intel', 'linux-7.0-amd', 'linux-7.0-intel-fred']) {
  const prof = getProfile(name);
  for (const abi of ['x86_64', 'i386'] as const) {
    const nr = abi === 'i386' ? 20n : 39n;
    t.test(`${name} ${abi}: TF + breakpoint on next_ip → the breakpoint's SIGTRAP, no step before it`, async (t) => {
      const o = runCase(mkCase({ abi, nr, regs: { rax: lit(nr) }, rflags: TF_RFLAGS, flags: ['TF'], breakpoint: { at: 'next_ip' }, isolate: true }), prof, { explain: true });
      t.equal(o.outcome, 'signal', o.reason ?? '');
      t.equal(o.signal?.signo, SIGNALS.SIGTRAP);
      t.equal(o.signal?.code, SI_CODES.TRAP_PERF, 'the perf event, not a single step (TRAP_TRACE)');
      t.equal(o.signal?.regs.rip, o.env.next_ip, 'the instruction at the return address has not run');
      t.not((o.signal?.regs.rflags ?? 0n) & RFLAGS.TF, 0n, 'TF is in the interrupted context');
      t.not((o.signal?.regs.rflags ?? 0n) & RFLAGS.RF, 0n, 'RF set by hw_breakpoint_handler');
      t.equal(o.traps ?? 0, 0, 'no single-step trap: nothing ran after the return');
      const steps = (o.steps ?? []).join('\n');
      t.match(steps, /instruction breakpoint/);
      t.notMatch(steps, /single-step #DB after it/, 'no step #DB is modelled');
      // The same case without the breakpoint: the instruction runs and one step follows it.
      const plain = runCase(mkCase({ abi, nr, regs: { rax: lit(nr) }, rflags: TF_RFLAGS, flags: ['TF'] }), prof, { explain: true });
      t.equal(plain.outcome, 'returned', plain.reason ?? '');
      t.equal(plain.traps, 1, 'one step after the instruction at the return address');
      t.match((plain.steps ?? []).join('\n'), /single-step #DB after it[\s\S]*DR6 = 0xffff4ff0 \(BS\)/);
    });
  }
}

t.test('RF and TF in a sigreturn frame: the breakpoint is skipped once, then the step follows the instruction', async (t) => {
  const prof = getProfile('linux-7.0-intel');
  for (const abi of ['x86_64', 'i386'] as const) {
    const o = runCase(mkCase({ abi, entry: 'sigreturn', breakpoint: { at: 'next_ip' }, isolate: true,
      sigreturn: { rflags: { ref: 'rflags_in', or: RFLAGS.RF | RFLAGS.TF } } }), prof, { explain: true });
    t.equal(o.outcome, 'returned', `${abi}: ${o.reason ?? ''}`);
    t.equal(o.traps, 1, `${abi}: the instruction ran with TF, so one step trap`);
    const steps = (o.steps ?? []).join('\n');
    t.match(steps, /skipped once[\s\S]*single-step #DB after it/, `${abi}: suppression first, the step after`);
    t.equal((o.after?.rflags ?? 0n) & RFLAGS.RF, 0n, `${abi}: RF cleared once the instruction ran`);
  }
});

t.test('singleStepTrap reports DR6.BS on top of the always-one bits', async (t) => {
  const notes: string[] = [];
  const cpu = { trace: true, note: (_i: string, s: string) => notes.push(s) } as unknown as Parameters<typeof singleStepTrap>[0];
  const dr6 = singleStepTrap(cpu, 0x401000n);
  t.equal(dr6 & DR6_BS, DR6_BS, 'BS set');
  t.equal(dr6 & 0xfn, 0n, 'no Bn: the step alone');
  t.equal(dr6, 0xffff4ff0n);
  t.match(notes[0], /0x401000/);
});
