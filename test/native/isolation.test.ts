// The isolation guarantees of forked (isolated) cases on the real kernel (issue 9): a new
// process per case, a time limit, RLIMIT_CPU/AS/CORE, a private working directory,
// PR_SET_NO_NEW_PRIVS, output kept out of the protocol stream; for both ways the probe
// starts such a child (a CLONE_VM child for pointer-free calls like getpid, a fork for the
// rest), and the probe's own state intact afterwards; and that answers the probe holds back
// to write several at once still reach the harness before a slow or hanging case.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { numberOf } from '../../abi/tables/index.js';
import type { Case, MemRegion, Observation } from '../../harness/contracts.js';
import { createProbeTarget, probePath, runProbeSession } from '../../harness/targets/probe-runner.js';
import { mkCase, nativeSkip, PROBE_DIR, sentinel } from './helpers.js';

const skip = nativeSkip('x86_64');
const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR });
const region = (p: Partial<MemRegion> & { name: string }): MemRegion => ({ size: 16, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true, ...p });
// A region the call never looks at: it only makes the case take the fork path (a case
// with memory may change mappings, so the probe never runs it in a CLONE_VM child).
const forcesFork: MemRegion[] = [region({ name: 'unused', readback: false })];

/** rax after the call, or a failure that says what came back instead. */
function rax(t: { fail(message: string): unknown }, o: Observation | undefined, what: string): bigint {
  if (o?.outcome !== 'returned' || o.after?.rax === undefined) {
    t.fail(`${what}: expected outcome returned with rax, found ${o?.outcome}${o?.reason ? ` (${o.reason})` : ''}`);
    return -1n;
  }
  return o.after.rax;
}

/** The region's bytes read back, as a little-endian u64 at byte offset off. */
function u64At(o: Observation | undefined, name: string, off: number): bigint {
  const hex = o?.memory?.[name] ?? '';
  return Buffer.from(hex, 'hex').readBigUInt64LE(off);
}

const PROBE_SIDE = (cases: Case[]) => target.run([mkCase({ call: 'getpid' }), ...cases, mkCase({ call: 'getpid' })]);

for (const [path, memory] of [['CLONE_VM child', [] as MemRegion[]], ['forked child', forcesFork]] as const) {
  t.test(`${path}: every isolated case is a new process whose parent is the probe`, { skip }, async (t) => {
    const iso = (call: string) => mkCase({ call, isolate: true, memory, regs: sentinel(64) });
    const obs = await PROBE_SIDE([iso('getpid'), iso('getpid'), iso('getppid'), iso('gettid')]);
    const probePid = rax(t, obs[0], 'in-process getpid');
    const [a, b, pp, tid] = [1, 2, 3, 4].map((i) => rax(t, obs[i], `isolated case ${i}`));
    t.not(a, probePid, 'isolated getpid is not the probe');
    t.not(a, b, 'each isolated case has its own process');
    t.equal(obs[1]!.env.pid, a, 'env.pid is the child (what $pid means for the case)');
    t.equal(obs[1]!.env.ppid, probePid, 'env.ppid is the probe');
    t.equal(pp, probePid, 'getppid in the child is the probe');
    t.equal(tid, obs[4]!.env.pid, 'single-threaded child: gettid = its pid');
    // The probe's own ids must come back after the child wrote its own into the probe's globals.
    const after = obs[5]!;
    t.equal(rax(t, after, 'in-process getpid afterwards'), probePid, 'same probe process afterwards (not restarted)');
    t.equal(after.env.pid, probePid, 'the probe reports its own pid again, not a child\'s');
    t.equal(after.env.ppid, BigInt(process.pid), 'and its own parent (this test process)');
    // Registers the child got back from the kernel: rbx..r15 kept, rcx = next_ip (SYSCALL).
    t.equal(obs[1]!.after?.rbx, 0x5a5a_0000_0000_0101n, 'rbx preserved across the call in the child');
    t.equal(obs[1]!.after?.rcx, obs[1]!.env.next_ip, 'rcx holds the return RIP, SYSCALL put it there');
  });

  t.test(`${path}: a case that hangs is killed at its limit, the probe goes on`, { skip }, async (t) => {
    const obs = await PROBE_SIDE([mkCase({ call: 'pause', isolate: true, memory, timeoutMs: 300 })]);
    t.equal(obs[1]!.outcome, 'timeout', `found ${obs[1]!.outcome}: ${obs[1]!.reason ?? ''}`);
    t.match(obs[1]!.reason ?? '', /300 ms/);
    t.equal(rax(t, obs[2], 'getpid after the timeout'), rax(t, obs[0], 'getpid before'), 'same probe after the kill');
  });

  t.test(`${path}: exit and exit_group end only the child`, { skip }, async (t) => {
    const obs = await PROBE_SIDE([
      mkCase({ call: 'exit', regs: { rdi: { lit: 3n } }, isolate: true, memory }),
      mkCase({ call: 'exit_group', regs: { rdi: { lit: 7n } }, isolate: true, memory }),
    ]);
    t.same([obs[1]!.outcome, obs[1]!.exit?.code], ['exited', 3]);
    t.same([obs[2]!.outcome, obs[2]!.exit?.code], ['exited', 7]);
    t.equal(rax(t, obs[3], 'getpid afterwards'), rax(t, obs[0], 'getpid before'), 'the probe survived both');
  });
}

t.test('a number the CLONE_VM path does not know exactly (high bits set) still runs isolated', { skip }, async (t) => {
  // The kernel ignores rax's high 32 bits (ABI-FACTS §4.1: the number is an int), so this is
  // getpid; the probe must not treat it as getpid for its own decision, and the child is forked.
  const nr = BigInt(numberOf('x86_64', 'getpid')) | (1n << 32n);
  const obs = await PROBE_SIDE([mkCase({ nr, isolate: true })]);
  const child = rax(t, obs[1], 'getpid with high bits');
  t.not(child, rax(t, obs[0], 'in-process getpid'), 'ran in a child, not the probe');
  t.equal(child, obs[1]!.env.pid);
});

t.test('the child\'s limits: RLIMIT_CPU from the case limit, RLIMIT_CORE 0, RLIMIT_AS 1 GiB', { skip }, async (t) => {
  // prlimit64(0, resource, NULL, &old): the child's own limits (struct rlimit64: cur, max).
  const lim = (resource: number, timeoutMs = 5000) =>
    mkCase({
      call: 'prlimit64', isolate: true, timeoutMs,
      regs: { rdi: { lit: 0n }, rsi: { lit: BigInt(resource) }, rdx: { lit: 0n }, r10: { ref: 'buf', name: 'old' } },
      memory: [region({ name: 'old', fill: 0xee })],
    });
  const RLIMIT_CPU = 0, RLIMIT_CORE = 4, RLIMIT_AS = 9; // include/uapi/asm-generic/resource.h
  const [cpu, cpu2, core, as] = await target.run([lim(RLIMIT_CPU), lim(RLIMIT_CPU, 2500), lim(RLIMIT_CORE), lim(RLIMIT_AS)]);
  for (const o of [cpu, cpu2, core, as]) t.equal(rax(t, o, 'prlimit64'), 0n, 'prlimit64 succeeded');
  // Whole seconds, at least the case's limit: 5000 ms → 6 s soft, 7 s hard (a backstop to the parent's timer).
  t.same([u64At(cpu, 'old', 0), u64At(cpu, 'old', 8)], [6n, 7n], 'RLIMIT_CPU for a 5000 ms case');
  t.same([u64At(cpu2, 'old', 0), u64At(cpu2, 'old', 8)], [3n, 4n], 'RLIMIT_CPU follows the case\'s own limit');
  t.same([u64At(core, 'old', 0), u64At(core, 'old', 8)], [0n, 0n], 'no core dumps');
  t.same([u64At(as, 'old', 0), u64At(as, 'old', 8)], [1n << 30n, 1n << 30n], 'address space capped at 1 GiB');
});

t.test('PR_SET_NO_NEW_PRIVS is set in the child', { skip }, async (t) => {
  const PR_GET_NO_NEW_PRIVS = 39n; // include/uapi/linux/prctl.h
  const [o] = await target.run([mkCase({ call: 'prctl', isolate: true, regs: { rdi: { lit: PR_GET_NO_NEW_PRIVS }, rsi: { lit: 0n }, rdx: { lit: 0n }, r10: { lit: 0n }, r8: { lit: 0n } } })]);
  t.equal(rax(t, o, 'prctl(PR_GET_NO_NEW_PRIVS)'), 1n);
});

t.test('the working directory is private, empty for every case, and not the probe\'s', { skip }, async (t) => {
  const cwd = () => mkCase({ call: 'getcwd', isolate: true, regs: { rdi: { ref: 'buf', name: 'b' }, rsi: { lit: 512n } }, memory: [region({ name: 'b', size: 512 })] });
  // mkdir("x", 0700) in one case; the next case must start in an empty directory again.
  const mk = mkCase({ call: 'mkdir', isolate: true, regs: { rdi: { ref: 'buf', name: 'n' }, rsi: { lit: 0o700n } }, memory: [region({ name: 'n', hex: Buffer.from('x\0').toString('hex') })] });
  const obs = await target.run([cwd(), mk, mk, cwd()]);
  const path = (o: Observation | undefined) => Buffer.from(o?.memory?.b ?? '', 'hex').toString('latin1').replace(/\0.*$/s, '');
  const first = path(obs[0]);
  t.ok(rax(t, obs[0], 'getcwd') > 0n, 'getcwd succeeded');
  t.match(first, /\/sysabi-probe-[A-Za-z0-9]{6}$/, 'a private directory made for the probe');
  t.not(first, process.cwd(), 'not the directory the probe was started in');
  t.equal(rax(t, obs[1], 'mkdir'), 0n, 'mkdir in the case directory succeeded');
  t.equal(rax(t, obs[2], 'mkdir again'), 0n, 'the next case did not see the first one\'s directory (no EEXIST)');
  t.ok(path(obs[3]).startsWith('/'), 'later case still has a working directory');
});

t.test('what a case writes to fd 1 and 2 never reaches the protocol stream', { skip }, async (t) => {
  const text = '{"id":"forged","outcome":"returned"}\n';
  const write = (fd: bigint, memory: MemRegion[] = []) =>
    mkCase({ call: 'write', isolate: true, regs: { rdi: { lit: fd }, rsi: { ref: 'buf', name: 'm' }, rdx: { lit: BigInt(text.length) } }, memory: [region({ name: 'm', size: text.length, hex: Buffer.from(text).toString('hex') }), ...memory] });
  const obs = await PROBE_SIDE([write(1n), write(2n)]);
  t.same(obs.map((o) => o.outcome), ['returned', 'returned', 'returned', 'returned'], 'every case answered, in order, nothing forged');
  t.equal(rax(t, obs[1], 'write(1)'), BigInt(text.length), 'the child wrote all of it (to /dev/null)');
  t.equal(rax(t, obs[2], 'write(2)'), BigInt(text.length));
});

t.test('the globals a forked child writes share one page (one copy-on-write fault, not one per page)', async (t) => {
  // The probe puts them in .data.sysabi_child (probes/probe.c, CHILD_HOT); the linker merges
  // that into .data, so the check is on the symbols' addresses in each built probe.
  const hot = ['sysabi_ctl', 'sysabi_self_pid', 'g_out', 'g_report_fd', 'g_in_child', 'g_child_shm', 'g_pid', 'g_tid', 'g_ppid', 'g_jb', 'g_in_case', 'g_sig', 'g_traps', 'g_record', 'g_sret_val', 'g_sret_set', 'g_unmapped'];
  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    const bin = probePath(PROBE_DIR, abi);
    if (!existsSync(bin)) {
      t.skip(`${bin} not built`, () => {});
      continue;
    }
    const r = spawnSync('nm', ['-S', bin], { encoding: 'utf8' });
    if (r.status !== 0) {
      t.skip(`nm not usable here: ${r.error?.message ?? r.stderr}`, () => {});
      return;
    }
    const where = new Map<string, [bigint, bigint]>();
    for (const line of r.stdout.split('\n')) {
      const [addr, size, , name] = line.trim().split(/\s+/);
      if (name && hot.includes(name)) where.set(name, [BigInt(`0x${addr}`), BigInt(`0x${size}`)]);
    }
    t.same(hot.filter((n) => !where.has(n)), [], `${abi}: every listed global found in the symbol table`);
    const pages = new Set([...where.values()].flatMap(([a, s]) => [a >> 12n, (a + s - 1n) >> 12n]));
    t.equal(pages.size, 1, `${abi}: on one page (found pages ${[...pages].map((p) => `0x${p.toString(16)}000`).join(', ')})`);
  }
});

t.test('an emulator that refuses the CLONE_VM child (qemu-user: EINVAL) gets forked cases instead', async (t) => {
  // Without SYSABI_NO_CLONE_VM (the wrapped targets set it), the probe must notice the refusal
  // itself and fork, not answer "fork failed".
  const which = spawnSync('sh', ['-c', 'command -v qemu-x86_64'], { encoding: 'utf8' });
  const qemu = which.stdout.trim();
  const why = nativeSkip('x86_64') || (qemu ? false : 'qemu-x86_64 not installed');
  if (why) return t.skip(why, () => {});
  delete process.env.SYSABI_NO_CLONE_VM; // the probe inherits this environment
  const obs = await runProbeSession([qemu, probePath(PROBE_DIR, 'x86_64')], [
    mkCase({ call: 'getpid', isolate: true }),
    mkCase({ call: 'getpid', isolate: true }),
    mkCase({ call: 'exit', regs: { rdi: { lit: 5n } }, isolate: true }),
  ]);
  t.same(obs.map((o) => o.outcome), ['returned', 'returned', 'exited'], `found: ${obs.map((o) => `${o.outcome}${o.reason ? ` (${o.reason})` : ''}`).join('; ')}`);
  t.not(obs[0]!.after?.rax, obs[1]!.after?.rax, 'two processes');
  t.equal(obs[2]!.exit?.code, 5);
});

t.test('after an in-process fault the probe keeps SIGCHLD blocked (its own mask, not an empty one)', { skip }, async (t) => {
  // wait_child() relies on SIGCHLD staying blocked between cases: unblocked, a child that exits
  // before its sigtimedwait loses the signal and is noticed only at the case's deadline.
  const fault = mkCase({ call: 'getpid', peek: { addr: { ref: 'unmapped' } } });
  const mask = region({ name: 'm', size: 8 });
  // rt_sigprocmask(SIG_BLOCK, NULL, &m, 8) in the probe process itself reads its current mask.
  const read = mkCase({ call: 'rt_sigprocmask', memory: [mask], regs: { rdi: { lit: 0n }, rsi: { lit: 0n }, rdx: { ref: 'buf', name: 'm' }, r10: { lit: 8n } } });
  const [f, r] = await target.run([fault, read]);
  t.equal(f?.outcome, 'signal', `the peek at an unmapped address faults in-process (${f?.reason ?? ''})`);
  t.equal(rax(t, r, 'rt_sigprocmask'), 0n);
  const SIGCHLD_BIT = 1n << 16n; // signal 17 is bit 16 of the sigset
  t.equal(u64At(r, 'm', 0) & SIGCHLD_BIT, SIGCHLD_BIT, 'SIGCHLD still blocked in the probe');
});

for (const [path, memory] of [['CLONE_VM child', [] as MemRegion[]], ['forked child', forcesFork]] as const) {
  t.test(`${path}: answers held back for a batched write still reach the harness while a slow case runs`, { skip }, async (t) => {
    // The probe writes forked cases' observations several at a time (struct outq); a case that
    // takes long must not keep the earlier ones back: the harness times each answer from the
    // previous one and would kill the probe (here after 100 + 300 ms) if the fast case's
    // answer waited for the slow one's 1500 ms.
    const arrived: number[] = [];
    const t0 = Date.now();
    const obs = await runProbeSession([probePath(PROBE_DIR, 'x86_64')], [
      mkCase({ call: 'getpid', isolate: true, memory, timeoutMs: 100 }),
      mkCase({ call: 'getpid', isolate: true, memory, timeoutMs: 100 }),
      mkCase({ call: 'pause', isolate: true, memory, timeoutMs: 1500 }),
    ], { graceMs: 300, onObservation: () => arrived.push(Date.now() - t0) });
    t.same(obs.map((o) => o.outcome), ['returned', 'returned', 'timeout'], `found: ${obs.map((o) => `${o.outcome}${o.reason ? ` (${o.reason})` : ''}`).join('; ')}`);
    t.ok(arrived[1]! < 1000, `the fast cases' answers arrived before the slow case ended (at ${arrived.join(', ')} ms)`);
  });
}

t.test('answers held back for a batched write are written before an in-process case that hangs', { skip }, async (t) => {
  // The harness kills the probe when an in-process case hangs (no answer within its limit plus
  // the grace); the isolated case before it must have been answered by then, not lost with it.
  const obs = await runProbeSession([probePath(PROBE_DIR, 'x86_64')], [
    mkCase({ call: 'getpid', isolate: true, memory: forcesFork }),
    mkCase({ call: 'pause', timeoutMs: 200 }),
  ], { graceMs: 300 });
  t.same(obs.map((o) => o.outcome), ['returned', 'timeout'], `found: ${obs.map((o) => `${o.outcome}${o.reason ? ` (${o.reason})` : ''}`).join('; ')}`);
  t.match(obs[1]?.reason ?? '', /no answer within/, 'the hang was caught by the harness, after the first answer');
});
