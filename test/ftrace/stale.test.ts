// A run that died without its exit hooks (SIGKILL) leaves its tracing instance behind, with
// its events still attached to the syscall tracepoints; the next capture removes such
// instances (harness/ftrace/capture.ts sweepStaleInstances) and leaves live ones alone.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { sweepStaleInstances } from '../../harness/ftrace/capture.js';
import { locateTracefs } from '../../harness/ftrace/tracefs.js';

const st = locateTracefs();

/** A pid that certainly no longer exists: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = execa('true');
  await p;
  return p.pid!;
}

t.test('a dead run\'s instance is removed, a live one and foreign ones are kept', { skip: st.ok ? false : `no usable tracefs: ${st.ok ? '' : st.reason}` }, async (t) => {
  const root = st.ok ? st.dir : '';
  const dead = await deadPid();
  const stale = join(root, 'instances', `sysabi-${dead}-7`);
  const live = join(root, 'instances', `sysabi-${process.ppid}-9`); // the tap runner: alive
  const foreign = join(root, 'instances', `notsysabi-${dead}-1`);
  for (const d of [stale, live, foreign]) mkdirSync(d);
  t.teardown(() => {
    for (const d of [stale, live, foreign]) {
      if (!existsSync(d)) continue; // removed by the sweep
      writeFileSync(join(d, 'events', 'enable'), '0');
      rmdirSync(d);
    }
  });
  // The way a killed run leaves it: an event switched on (it stays attached to its tracepoint).
  writeFileSync(join(stale, 'events', 'syscalls', 'sys_enter_getpid', 'enable'), '1');
  t.equal(readFileSync(join(stale, 'events', 'syscalls', 'sys_enter_getpid', 'enable'), 'utf8').trim(), '1');
  const removed = sweepStaleInstances(root);
  t.same(removed, [`sysabi-${dead}-7`], 'only the dead run\'s instance is reported removed');
  t.notOk(existsSync(stale), 'the stale instance is gone');
  t.ok(existsSync(live), 'an instance whose pid is alive is kept');
  t.ok(existsSync(foreign), 'an instance not named by sysabi is kept');
});

t.test('no tracefs: nothing to read, nothing removed, no throw', async (t) => {
  t.same(sweepStaleInstances('/nonexistent-tracefs'), []);
});
