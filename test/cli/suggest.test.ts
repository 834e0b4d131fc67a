// "Did you mean" for case ids (harness/suggest.ts): typos in the spec part or the slug, partial
// slugs, a case asked for an ABI it lacks, spec-id typos, bare words, and nothing offered for
// ids unlike any known one.

import t from 'tap';
import { nearestIds, noMatchMessage } from '../../harness/suggest.js';

const IDS = [
  'entry.syscall64.result/getpid-returns-the-process-id@x86_64',
  'entry.syscall64.result/getpid-returns-the-process-id@x32',
  'entry.syscall64.result/gettid-returns-the-thread-id@x86_64',
  'entry.syscall64.result/gettid-returns-the-thread-id@x32',
  'entry.int80_compat.result/getpid-returns-the-process-id@i386',
  'registers.syscall64.clobbers/getpid@x86_64',
  'flags.tf_combinations/tf-over-syscall@x86_64',
];

t.test('a typo in the slug finds the case, same ABI first', async (t) => {
  t.same(nearestIds('entry.syscall64.result/getpid-returns-the-proces@x86_64', IDS)[0], 'entry.syscall64.result/getpid-returns-the-process-id@x86_64');
});

t.test('a typo in the spec part finds the case', async (t) => {
  t.same(nearestIds('entry.syscall64.resullt/gettid-returns-the-thread-id@x32', IDS).slice(0, 2), ['entry.syscall64.result/gettid-returns-the-thread-id@x32', 'entry.syscall64.result/gettid-returns-the-thread-id@x86_64']);
});

t.test('a partial slug finds the cases it starts; without @abi the answers have none', async (t) => {
  t.same(nearestIds('entry.syscall64.result/getpid', IDS), ['entry.syscall64.result/getpid-returns-the-process-id']);
});

t.test('an ABI the case does not run on: its other ABIs are offered', async (t) => {
  const n = nearestIds('entry.syscall64.result/getpid-returns-the-process-id@i386', IDS);
  t.same(n.slice(0, 2), ['entry.syscall64.result/getpid-returns-the-process-id@x32', 'entry.syscall64.result/getpid-returns-the-process-id@x86_64']);
});

t.test('spec ids and prefixes', async (t) => {
  t.same(nearestIds('entry.syscal64.result', IDS), ['entry.syscall64.result']);
  t.same(nearestIds('flags.tf', IDS), ['flags.tf_combinations']);
});

t.test('a bare word finds the case ids containing it; nothing for an unknown word', async (t) => {
  t.same(nearestIds('clobbers', IDS), ['registers.syscall64.clobbers/getpid@x86_64']);
  t.same(nearestIds('zzz', IDS), []);
  t.same(nearestIds('vsyscall.slots/getcpu@x86_64', IDS), [], 'an unrelated id gets no guess');
});

t.test('the message lists the guesses and says where ids come from', async (t) => {
  t.equal(
    noMatchMessage(['entry.syscal64.result', 'zzz'], IDS),
    'no case matches "entry.syscal64.result"; did you mean:\n  entry.syscall64.result\nno case matches "zzz"\n(`sysabi list` prints every id; ids look like spec.id/case-slug@abi)',
  );
});
