// sysabi fuzz (harness/fuzz.ts): determinism from the seed, sharding, the safe syscall set,
// and the minimiser against fake targets that break known rules (fixtures/rules.ts), whose
// findings must load through the real spec loader and pass on the reference only.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ABIS, type Abi } from '../../abi/constants.js';
import { isImplemented, lookupNumber } from '../../abi/tables/index.js';
import { check } from '../../harness/check.js';
import { fuzzCommand } from '../../harness/commands/fuzz.js';
import { expandText, generateCase, runFuzz, runSpecText, shardIndexes, type FuzzSide } from '../../harness/fuzz.js';
import { expandSpec } from '../../harness/spec/expand.js';
import { loadSpecs } from '../../harness/spec/load.js';
import { bentTarget, refTarget } from './fixtures/rules.js';

const ENTRIES = ['syscall', 'int80'] as const;
const sides = async (): Promise<[FuzzSide, FuzzSide]> => {
  const a = refTarget();
  const b = bentTarget();
  return [{ name: 'ref', target: a, info: await a.describe() }, { name: 'bent', target: b, info: await b.describe() }];
};

t.test('same seed, same cases; another seed, other cases', async (t) => {
  for (const abi of ABIS) {
    const one = Array.from({ length: 60 }, (_, i) => generateCase('7', abi, i, ENTRIES));
    const two = Array.from({ length: 60 }, (_, i) => generateCase('7', abi, i, ENTRIES));
    const other = Array.from({ length: 60 }, (_, i) => generateCase('8', abi, i, ENTRIES));
    t.same(two, one, `${abi}: seed 7 twice`);
    const differing = other.filter((c, i) => JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) !== JSON.stringify(one[i], (_k, v) => (typeof v === 'bigint' ? String(v) : v))).length;
    t.ok(differing > 50, `${abi}: seed 8 differs from seed 7 in ${differing}/60 cases`);
  }
});

t.test('shards are disjoint, cover every index, and hold the unsharded cases', async (t) => {
  const all = shardIndexes(23);
  const parts = [1, 2, 3].map((i) => shardIndexes(23, { index: i, count: 3 }));
  t.same(parts.flat().sort((a, b) => a - b), all);
  t.equal(new Set(parts.flat()).size, 23);
  // A case is a function of its index alone, so shard 2's case 4 is the unsharded case 4.
  t.same(generateCase('5', 'x86_64', parts[1]![1]!, ENTRIES), generateCase('5', 'x86_64', 4, ENTRIES));
});

t.test('without features, generated cases load, and only reach harmless calls or unimplemented numbers', async (t) => {
  const SAFE = new Set(['getpid', 'getppid', 'gettid', 'getuid', 'getgid', 'geteuid', 'getegid', 'sched_yield', 'close', 'write', 'read',
    // 16-bit id calls of the i386 table
    'getuid16', 'getgid16', 'geteuid16', 'getegid16']);
  const seen = new Set<string>();
  for (const abi of ABIS) {
    const cases = Array.from({ length: 400 }, (_, i) => generateCase('11', abi, i, ENTRIES, [])!);
    const ecs = expandText('<test>', runSpecText('fuzz.s11', cases.map((c) => ({ name: `case ${c.index}`, abi, body: c.body }))));
    t.equal(ecs.length, 400, `${abi}: every case expands`);
    for (const ec of ecs) {
      const c = ec.case;
      const table: Abi = c.entry === 'int80' ? 'i386' : abi;
      if (abi === 'i386') t.equal(c.entry, 'int80', 'i386 enters with int $0x80 only');
      // The kernel decodes (int)eax (ABI-FACTS §3.4, §3.7); that number must be harmless.
      const nr = BigInt.asIntN(32, BigInt.asUintN(32, c.nr));
      const row = nr >= 0n ? lookupNumber(table, nr) : undefined;
      const harmless = !isImplemented(table, nr) || (row !== undefined && SAFE.has(row.name));
      if (!harmless) t.fail(`${c.id}: ${table} number ${nr} (${row?.name}) is not in the safe set`);
      if (row && isImplemented(table, nr)) seen.add(row.name);
      else seen.add('(unimplemented)');
      t.ok(!c.isolate, `${c.id} runs in the probe`);
    }
  }
  for (const n of ['getpid', 'close', 'write', 'read', '(unimplemented)']) t.ok(seen.has(n), `the set reaches ${n}`);
});

t.test('the minimiser reduces a DF rule and a register rule to the one input that matters', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-fuzz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await sides();
  const rep = await runFuzz(s, { seed: '3', count: 300, abis: ['x86_64', 'i386', 'x32'], entries: [...ENTRIES], outDir: dir, maxFindings: 50 });
  const x32 = rep.stats.find((x) => x.abi === 'x32')!;
  t.equal(x32.compared, 0, 'x32 is not compared where a side cannot run it');
  t.match(x32.notComparedWhy ?? '', /no x32 here/);
  const df = rep.findings.filter((f) => f.signature.join() === 'after.rcx' && f.minimised && !f.duplicateOf);
  const rbx = rep.findings.filter((f) => f.signature.join() === 'after.r12' && f.minimised && !f.duplicateOf);
  t.ok(df.length >= 1, 'the DF rule was found');
  t.ok(rbx.length >= 1, 'the RBX rule was found');
  for (const f of df) {
    const b = f.minimised!.body;
    t.same(b.flags, ['DF'], `${f.abi} ${f.index}: only DF is left`);
    t.equal(b.regs, undefined, 'no register is left');
    t.equal(b.sentinel, undefined, 'no sentinel');
    t.equal(b.nr_high, undefined, 'no high bits in rax');
  }
  for (const f of rbx) {
    const b = f.minimised!.body;
    t.same(Object.keys(b.regs ?? {}), ['rbx'], `${f.abi} ${f.index}: only rbx is left`);
    t.equal(b.regs!.rbx! >> 63n, 1n, 'bit 63 is kept');
    t.equal(b.regs!.rbx! & 0xffff_ffffn, 0n, 'the low half was simplified away');
    t.equal(b.flags, undefined, 'no flag is left');
    t.not(f.abi, 'i386', '32-bit code has no bit 63');
  }
  // Every written file loads through the real loader, passes on the reference, fails on the other.
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  t.equal(files.length, rep.findings.filter((f) => f.file).length, 'one file per distinct finding');
  const loaded = await loadSpecs([dir]);
  t.same(loaded.errors, [], 'the findings load without errors');
  t.equal(loaded.specs.length, files.length);
  for (const spec of loaded.specs) {
    const [ec] = expandSpec(spec);
    const f = rep.findings.find((x) => x.specId === spec.id)!;
    t.match(readFileSync(f.file!, 'utf8'), /--seed 3/, 'the seed is in a comment');
    const m = f.minimised!;
    t.equal(check(ec!, { ...m.result.a, id: ec!.case.id }, 'ref').status, 'pass', `${spec.id} passes on the reference`);
    t.equal(check(ec!, { ...m.result.b, id: ec!.case.id }, 'bent').status, 'fail', `${spec.id} fails on the other`);
    t.same(f.verdict, ['pass', 'fail']);
    // The file runs the same case again: the bent target still disagrees on it.
    const [a, b] = [await s[0].target.run([ec!.case]), await s[1].target.run([ec!.case])];
    t.not(a[0]!.after!.rcx === b[0]!.after!.rcx && a[0]!.after!.r12 === b[0]!.after!.r12, true, 'the written case still disagrees');
  }
});

t.test('agreeing targets: nothing found, nothing written', async (t) => {
  const a = refTarget();
  const b = refTarget();
  const rep = await runFuzz([{ name: 'a', target: a, info: await a.describe() }, { name: 'b', target: b, info: await b.describe() }], { seed: '4', count: 100, abis: ['x86_64', 'i386'], entries: [...ENTRIES] });
  t.same(rep.findings, []);
  t.same(rep.stats.map((s) => [s.abi, s.compared, s.differing]), [['x86_64', 100, 0], ['i386', 100, 0]]);
});

t.test('the command: module targets, exit 1 with files, usage errors exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-fuzz-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const here = new URL('.', import.meta.url).pathname;
  let out = '';
  let err = '';
  const code = await fuzzCommand(['--targets', `module:${here}fixtures/ref-target.ts,module:${here}fixtures/bent-target.ts`, '--seed', '9', '--count', '80', '--abi', 'x86_64', '--out', dir, '-q'], '/nonexistent', (s) => (out += s), (s) => (err += s));
  t.equal(code, 1, err);
  t.match(out, /seed 9/);
  t.match(out, /x86_64: 80 generated, 80 compared/);
  t.ok(readdirSync(dir).some((f) => /^fuzz-s9-x86_64_\d+\.yaml$/.test(f)), 'a finding file was written');
  const usage = async (args: string[], re: RegExp) => {
    let e = '';
    t.equal(await fuzzCommand(args, '/nonexistent', () => {}, (s) => (e += s)), 2, args.join(' '));
    t.match(e, re);
  };
  await usage(['--seed', 'abc'], /--seed "abc": expected a decimal integer/);
  await usage(['--count', '0'], /--count "0"/);
  await usage(['--entries', 'sysenter'], /--entries "sysenter": expected one of syscall, int80/);
  await usage(['--shard', '3/2'], /--shard "3\/2"/);
  await usage(['--targets', 'native'], /exactly two targets/);
  await usage(['--abi', 'arm64'], /--abi "arm64"/);
});
