// Case selection: ids, spec ids, id prefixes and globs; --abi, --grep, --tag; and sharding,
// whose parts must be disjoint, cover everything and differ in size by at most one.

import fc from 'fast-check';
import t from 'tap';
import { parseShard, selectCases } from '../../harness/run.js';
import { makeCase } from './fixtures/cases.js';

const all = [
  makeCase('entry.syscall64.clobbers', 'getpid', 'x86_64'),
  makeCase('entry.syscall64.clobbers', 'getpid', 'x32'),
  makeCase('entry.int80.compat', 'getpid', 'i386', { tags: ['compat'] }),
  makeCase('entryx.other', 'getpid', 'i386'),
  makeCase('flags.df', 'kept', 'x86_64', { tags: ['flags'] }),
];
const ids = (sel: Parameters<typeof selectCases>[1]) => selectCases(all, sel).cases.map((c) => c.case.id);

t.test('operands select by case id, case without ABI, spec id, prefix, glob', async (t) => {
  t.same(ids({ ids: ['entry.syscall64.clobbers/getpid@x32'] }), ['entry.syscall64.clobbers/getpid@x32']);
  t.same(ids({ ids: ['entry.syscall64.clobbers/getpid'] }), ['entry.syscall64.clobbers/getpid@x86_64', 'entry.syscall64.clobbers/getpid@x32']);
  t.same(ids({ ids: ['entry.int80.compat'] }), ['entry.int80.compat/getpid@i386']);
  t.same(ids({ ids: ['entry'] }).length, 3, 'a prefix stops at a dot: entryx.* is not entry.*');
  t.same(ids({ ids: ['*@i386'] }), ['entry.int80.compat/getpid@i386', 'entryx.other/getpid@i386']);
  const r = selectCases(all, { ids: ['flags', 'nope.nothing'] });
  t.same(r.unmatched, ['nope.nothing'], 'an id that selects nothing is reported');
});

t.test('--abi, --grep, --tag', async (t) => {
  t.same(ids({ abis: ['x32'] }), ['entry.syscall64.clobbers/getpid@x32']);
  t.same(ids({ grep: /df\/|int80/ }), ['entry.int80.compat/getpid@i386', 'flags.df/kept@x86_64']);
  t.same(ids({ tags: ['compat', 'flags'] }), ['entry.int80.compat/getpid@i386', 'flags.df/kept@x86_64']);
});

t.test('--shard parsing', async (t) => {
  t.same(parseShard('2/3'), { index: 2, count: 3 });
  for (const bad of ['0/3', '4/3', '1/0', '1', 'a/b', '-1/2']) t.throws(() => parseShard(bad), { message: /expected i\/n/ }, bad);
});

t.test('shards are disjoint, complete and balanced (property)', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 9 }), (n, count) => {
      const cases = Array.from({ length: n }, (_, i) => makeCase(`s.p${i % 4}`, `c${i}`, 'x86_64'));
      const parts = Array.from({ length: count }, (_, k) => selectCases(cases, { shard: { index: k + 1, count } }).cases.map((c) => c.case.id));
      const flat = parts.flat();
      if (flat.length !== n || new Set(flat).size !== n) return false;
      const sizes = parts.map((p) => p.length);
      return Math.max(...sizes) - Math.min(...sizes) <= 1;
    }),
  );
  t.pass('property held');
});
