// The jsonl:CMD target (harness/targets/jsonl.ts) and the example adapter shipped in
// docs/examples/jsonl-echo-kernel.mjs: hello parsing, strict Observation parsing, and a crash,
// garbage, a wrong id or a silent adapter costing only the case in flight.

import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RFLAGS_USER_DEFAULT } from '../../abi/constants.js';
import type { Abi, Case } from '../../harness/contracts.js';
import { createJsonlTarget, createJsonlTargetFromSpec, parseHelloLine } from '../../harness/targets/jsonl.js';
import { TargetUnavailableError } from '../../harness/targets/registry.js';

const EXAMPLE = fileURLToPath(new URL('../../docs/examples/jsonl-echo-kernel.mjs', import.meta.url));
const MISBEHAVE = fileURLToPath(new URL('./fixtures/jsonl-misbehave.mjs', import.meta.url));

function mk(slug: string, abi: Abi, nr: bigint, extra: Partial<Case> = {}): Case {
  const compat = abi === 'i386';
  return {
    id: `t/${slug}@${abi}`, spec: 't', abi, entry: compat ? 'int80' : 'syscall', code: compat ? 'compat' : '64', nr,
    regs: { rbx: { lit: 0x1234n } }, rflags: RFLAGS_USER_DEFAULT, flags: [], memory: [], fds: [],
    signals: { actions: {}, blocked: [] }, isolate: false, timeoutMs: 1000, ...extra,
  };
}

t.test('the example adapter answers getpid and ENOSYS from the case', async (t) => {
  const tg = createJsonlTarget({ argv: [process.execPath, EXAMPLE] });
  t.teardown(() => tg.close!());
  const info = await tg.describe();
  t.equal(info.version, '1.0');
  t.equal(info.abis.x32.ok, false);
  const [pid64, enosys64, pid32, enosys32, other] = await tg.run([
    mk('getpid', 'x86_64', 39n),
    mk('enosys', 'x86_64', 1000n),
    mk('getpid', 'i386', 20n),
    mk('enosys', 'i386', 5000n),
    mk('read', 'x86_64', 0n),
  ]);
  t.equal(pid64!.outcome, 'returned');
  t.ok(pid64!.env.pid && pid64!.env.pid > 1n, 'env.pid reported');
  t.equal(pid64!.after?.rax, pid64!.env.pid, 'getpid returns the adapter-reported pid');
  t.equal(pid64!.after?.rcx, pid64!.env.next_ip, 'RCX holds the return RIP because SYSCALL put it there');
  t.equal(pid64!.after?.rbx, 0x1234n, 'rbx preserved');
  t.equal(enosys64!.after?.rax, 0xffffffffffffffdan, '-ENOSYS in 64 bits');
  t.equal(pid32!.after?.rax, pid32!.env.pid);
  t.equal(enosys32!.after?.rax, 0xffffffdan, '-ENOSYS in 32 bits for 32-bit code');
  t.equal(other!.outcome, 'unsupported', 'a call outside the model is refused, not guessed');
  t.match(other!.reason, /models only getpid/);
});

t.test('crash, garbage, wrong id, decimals and a hang cost one case each', async (t) => {
  const tg = createJsonlTarget({ argv: [process.execPath, MISBEHAVE], graceMs: 300 });
  t.teardown(() => tg.close!());
  const obs = await tg.run([
    mk('a', 'x86_64', 1n),
    mk('crash', 'x86_64', 2n),
    mk('b', 'x86_64', 3n),
    mk('garbage', 'x86_64', 4n),
    mk('wrong-id', 'x86_64', 5n),
    mk('decimal', 'x86_64', 6n),
    mk('hang', 'x86_64', 7n, { timeoutMs: 100 }),
    mk('c', 'x86_64', 8n),
  ]);
  t.same(obs.map((o) => o.outcome), ['returned', 'error', 'returned', 'error', 'error', 'error', 'timeout', 'returned']);
  t.same(obs.map((o) => o.id), ['a', 'crash', 'b', 'garbage', 'wrong-id', 'decimal', 'hang', 'c'].map((s) => `t/${s}@x86_64`), 'ids stay in order');
  t.match(obs[1]!.reason, /exited with status 7.*simulated crash/);
  t.match(obs[3]!.reason, /not JSON/);
  t.match(obs[4]!.reason, /answer for "other" while "t\/wrong-id@x86_64" was asked/);
  t.match(obs[5]!.reason, /after\.rax/);
  t.match(obs[6]!.reason, /no answer within 400 ms/);
  t.equal(obs[7]!.after?.rax, 8n, 'the restarted adapter answers the next case');
  t.equal(tg.restarts(), 5, 'one restart each after the crash, garbage, wrong id, decimal and hang');
});

t.test('a bad or missing hello is a clear error for every case', async (t) => {
  for (const [mode, re] of [['no-hello', /not \{"hello": TargetInfo\}/], ['die-at-once', /exited with status 3/], ['silent', /within 500 ms/]] as const) {
    const tg = createJsonlTarget({ argv: [process.execPath, MISBEHAVE, mode], helloTimeoutMs: 500 });
    await t.rejects(tg.describe(), re, `${mode}: describe`);
    const [o] = await tg.run([mk('a', 'x86_64', 1n)]);
    t.equal(o!.outcome, 'error', `${mode}: case`);
    t.match(o!.reason, re);
    await tg.close!();
  }
});

t.test('hello validation and a missing program', async (t) => {
  t.throws(() => parseHelloLine('{"hello":{"name":"x","version":"1","profile":{},"abis":{}}}'), /profile\.name/);
  t.throws(() => createJsonlTargetFromSpec('no-such-adapter-xyz --flag'), TargetUnavailableError);
  t.throws(() => createJsonlTargetFromSpec('./missing/adapter.mjs', { cwd: '/tmp' }), /not installed or not on PATH/);
});
