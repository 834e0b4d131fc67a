// The simulator fixes the session-2 fuzz campaigns (native vs sim:host, docs/fuzz.md) led to,
// each checked on a case the fuzzer drew, written as a spec case and run on the simulator:
// tgkill's si_code (SI_TKILL), the 64-bit sigcontext of a kill()ed handler (no ds/es/bases),
// RF = 1 in the flags a fault-class exception pushes (Intel SDM Vol. 3B §17.3.1.1), and
// process_vm_readv returning 0 for an empty local side before it reads the remote iovecs.
import t from 'tap';
import { SI_CODES, SIGNALS } from '../../abi/constants.js';
import { expandText } from '../../harness/fuzz.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';

const PROFILES = ['linux-7.0-intel', 'linux-7.0-amd'].map(getProfile);
const spec = (abi: string, cases: string) =>
  expandText('<s2>', `id: t.s2\ntitle: t\ndescription: d\nrefs: [{ doc: docs/fuzz.md }]\ntags: [signals]\nabi: [${abi}]\ncases:\n${cases}`);

t.test('tgkill to the caller delivers SI_TKILL, kill SI_USER (kernel/signal.c prepare_kill_siginfo)', async (t) => {
  for (const abi of ['x86_64', 'i386']) {
    const ecs = spec(abi, [
      '  - { name: tgkill, call: tgkill, args: [pid, tid, 14], signals: { SIGALRM: record }, expect: { ret: 0 } }',
      '  - { name: kill, call: kill, args: [pid, 14], signals: { SIGALRM: record }, expect: { ret: 0 } }',
      '  - { name: kill then tgkill, call: tgkill, args: [pid, tid, 14], signals: { SIGALRM: record }, blocked: [SIGALRM], expect: { ret: 0 } }',
    ].join('\n'));
    for (const p of PROFILES) {
      const [tg, k] = ecs.map((ec) => runCase(ec.case, p));
      t.equal(tg!.delivered?.[0]?.signo, SIGNALS.SIGALRM, `${abi} ${p.name}: tgkill's signal delivered`);
      t.equal(tg!.delivered?.[0]?.code, SI_CODES.SI_TKILL, `${abi} ${p.name}: tgkill → si_code SI_TKILL (-6)`);
      t.equal(k!.delivered?.[0]?.code, SI_CODES.SI_USER, `${abi} ${p.name}: kill → si_code SI_USER (0)`);
    }
  }
});

t.test('a 64-bit handler of an async signal sees no ds/es slot and no bases; an i386 one sees ds/es', async (t) => {
  const [x] = spec('x86_64', '  - { name: k, call: kill, args: [pid, 10], signals: { SIGUSR1: record }, expect: { ret: 0 } }').map((ec) => runCase(ec.case, PROFILES[0]!));
  const regs = x!.delivered?.[0]?.regs ?? {};
  for (const r of ['ds', 'es', 'fs_base', 'gs_base'] as const) t.equal(regs[r], undefined, `x86_64: no ${r} in the delivered sigcontext`);
  t.ok(regs.cs !== undefined && regs.rip !== undefined, 'x86_64: cs and rip are there');
  const [i] = spec('i386', '  - { name: k, call: kill, args: [pid, 10], signals: { SIGUSR1: record }, expect: { ret: 0 } }').map((ec) => runCase(ec.case, PROFILES[0]!));
  t.ok(i!.delivered?.[0]?.regs.ds !== undefined, 'i386: the 32-bit sigcontext has ds');
});

t.test('a fault-class exception pushes RF = 1: #PF after sigreturn to an unmapped page, #NP at a selector load', async (t) => {
  for (const p of PROFILES) {
    // fuzz seed 101, x86_64 case 182 (template sigreturn-rip), minimised: the frame's rip is
    // TASK_SIZE_MAX, which IRET takes, and the fetch there faults in user mode.
    const [pf] = spec('x86_64', '  - { name: pf, entry: sigreturn, sigreturn: { rip: 0x7ffffffff000 }, expect: { signal: { signo: SIGSEGV } } }').map((ec) => runCase(ec.case, p));
    t.equal(pf!.signal?.signo, SIGNALS.SIGSEGV, `${p.name}: SIGSEGV`);
    t.equal((pf!.signal?.regs.rflags ?? 0n) & 0x10000n, 0x10000n, `${p.name}: the #PF's saved rflags have RF`);
    // A not-present LDT entry loaded after getpid: #NP, SIGBUS; the sigcontext flags have RF.
    const [np] = spec('x86_64', [
      '  - name: np',
      '    call: getpid',
      '    memory: { u: { hex: "02000000 00000020 ffff0f00 71000000", place: low32 } }',
      '    setup: [ { call: modify_ldt, args: [0x11, buf:u, 16] } ]',
      '    segs: { gs: 0x17 }',
      '    expect: { signal: { signo: SIGBUS } }',
    ].join('\n')).map((ec) => runCase(ec.case, p));
    t.equal(np!.signal?.signo, SIGNALS.SIGBUS, `${p.name}: SIGBUS`);
    t.equal((np!.signal?.regs.rflags ?? 0n) & 0x10000n, 0x10000n, `${p.name}: the #NP's saved rflags have RF`);
  }
  // A trap (the single step) pushes RF as it was: clear.
  const [tf] = spec('x86_64', '  - { name: tf, call: getpid, flags: [TF], expect: { ret: $pid } }').map((ec) => runCase(ec.case, PROFILES[0]!));
  t.ok((tf!.traps ?? 0) > 0, 'TF traps are still counted');
});

t.test('process_vm_readv with nothing to copy into returns 0 before reading rvec (mm/process_vm_access.c process_vm_rw)', async (t) => {
  for (const abi of ['x86_64', 'i386']) {
    // fuzz seed 102, x86_64 case 160 / i386 case 785: liovcnt 0 (or a zero iov_len), rvec unmapped.
    const ecs = spec(abi, [
      '  - { name: cnt0, call: process_vm_readv, memory: { d: { size: 16 } }, args: [pid, buf:d, 0, unmapped, 1, 0], expect: { ret: 0 } }',
      '  - { name: one, call: process_vm_readv, memory: { l: { size: 16, fill: 0 } }, args: [pid, buf:l, 1, unmapped, 1, 0], expect: { ret: 0 } }',
    ].join('\n'));
    for (const p of PROFILES) {
      const [a, b] = ecs.map((ec) => runCase(ec.case, p));
      t.equal(a!.after?.rax, 0n, `${abi} ${p.name}: liovcnt 0 → 0, rvec not read`);
      t.equal(b!.after?.rax, 0n, `${abi} ${p.name}: one zero-length local iovec → 0`);
    }
  }
});
