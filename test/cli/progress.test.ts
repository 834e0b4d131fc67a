// The progress line: only on a TTY, redrawn in place with \r, coloured unless NO_COLOR.

import t from 'tap';
import { createProgress } from '../../harness/report/progress.js';
import type { Result } from '../../harness/contracts.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { s: { isTTY, columns: 80, write: (c: string) => (chunks.push(c), true) } as unknown as NodeJS.WriteStream, chunks };
}
const fail: Result = { caseId: 'a.b/c@x86_64', specId: 'a.b', abi: 'x86_64', target: 't', status: 'fail', diffs: [] };

t.test('nothing at all on a pipe', async (t) => {
  const { s, chunks } = stream(false);
  const p = createProgress(s, {});
  p.targetStart('sim', 1);
  p.result({ ...fail });
  p.done();
  t.same(chunks, []);
});

t.test('one line on a TTY, colour unless NO_COLOR', async (t) => {
  const a = stream(true);
  const p = createProgress(a.s, {});
  p.targetStart('sim', 1);
  p.result({ ...fail });
  p.done();
  t.match(a.chunks.join(''), /\r\x1b\[2Ksysabi sim: 1\/1  \x1b\[31m1 unexpected\x1b\[0m/);
  t.notMatch(a.chunks.join(''), /\n/, 'never a newline: the line is redrawn in place');
  const b = stream(true);
  const q = createProgress(b.s, { NO_COLOR: '1' });
  q.targetStart('sim', 1);
  q.result({ ...fail });
  t.match(b.chunks.join(''), /sysabi sim: 1\/1  1 unexpected/);
  t.notMatch(b.chunks.join(''), /\x1b\[3\dm/, 'no colour with NO_COLOR');
});
