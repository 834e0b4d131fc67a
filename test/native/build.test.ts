// The probes build warning-free with -Wall -Wextra for every variant this toolchain can
// link (probes/probes.mk), and a variant it cannot link is a note, not a failure.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ABIS } from '../../abi/constants.js';

const ROOT = join(import.meta.dirname, '..', '..');
const haveGcc = spawnSync('gcc', ['--version']).status === 0;
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'probes build on x86-64 Linux' : !haveGcc ? 'no gcc' : false;

t.test('make probes: warning-free, every buildable variant present', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sysabi-probes-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync('make', ['-s', '-B', 'probes', `PROBE_BUILD=${out}`], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `make succeeded: ${r.stderr}`);
  const text = `${r.stdout}\n${r.stderr}`;
  t.notMatch(text, /warning:/, 'no compiler warnings');
  for (const abi of ABIS) {
    const probe = join(out, `probe-${abi}`);
    if (existsSync(probe)) {
      t.ok(existsSync(join(out, `probe-exec-${abi}`)), `${abi}: exec program built next to the probe`);
    } else {
      t.ok(existsSync(`${probe}.missing`), `${abi}: not built, and the reason is left in probe-${abi}.missing`);
      t.match(readFileSync(`${probe}.missing`, 'utf8'), /toolchain/);
      t.match(text, new RegExp(`note: .*skipping probe-${abi}`));
    }
  }
  t.ok(existsSync(join(out, 'probe-x86_64')), 'the x86_64 probe always builds on x86-64');
  // Nothing to do the second time: rebuilt only when sources change.
  const again = spawnSync('make', ['probes', `PROBE_BUILD=${out}`], { cwd: ROOT, encoding: 'utf8' });
  t.notMatch(again.stdout, /CC/, 'up to date: no recompilation');
});

t.test('a missing -mx32 toolchain is a note, not a build failure', { skip }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sysabi-probes-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  // A compiler wrapper that refuses -mx32, as a machine without libc6-dev-x32 would.
  const cc = join(out, 'cc-no-x32');
  spawnSync('sh', ['-c', `printf '#!/bin/sh\\nfor a in "$@"; do [ "$a" = -mx32 ] && exit 1; done\\nexec gcc "$@"\\n' > ${cc} && chmod +x ${cc}`]);
  const r = spawnSync('make', ['-s', `${out}/probe-x32`, `PROBE_BUILD=${out}`, `PROBE_CC=${cc}`], { cwd: ROOT, encoding: 'utf8' });
  t.equal(r.status, 0, 'make still succeeds');
  t.match(r.stdout, /note: .*-mx32.*skipping probe-x32/);
  t.match(readFileSync(join(out, 'probe-x32.missing'), 'utf8'), /no -mx32 toolchain/);
});
