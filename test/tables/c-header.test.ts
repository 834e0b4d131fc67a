// Tests of the generated C header probes/include/sysabi_nr.h: it compiles warning-free
// (-Wall -Wextra -Werror) in -m64, -m32 and -mx32; in each mode SYSABI_NR_<name> selects that
// ABI's numbers (checked with _Static_assert against the TypeScript tables and, where the
// compiler has them, <asm/unistd.h>); it works in preprocessed assembly; and a program built
// with it gets getpid() from the kernel when that ABI can run here (detected, not assumed).

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ABIS, type Abi } from '../../abi/constants.js';
import { lookupName, NR_SYSCALLS, rows } from '../../abi/tables/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const INCLUDE = join(ROOT, 'probes', 'include');
const CC = process.env.CC ?? 'gcc';
const MODES: [Abi, string][] = [['x86_64', '-m64'], ['i386', '-m32'], ['x32', '-mx32']];
const MACRO: Record<Abi, string> = { x86_64: 'X86_64', i386: 'I386', x32: 'X32' };

const work = mkdtempSync(join(tmpdir(), 'sysabi-nr-h-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: work });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

/** Like the kselftests' check_cc.sh: can this compiler build and link a trivial program in this mode? */
function canBuild(flag: string): string | false {
  const src = join(work, `triv${flag}.c`);
  writeFileSync(src, 'int main(void) { return 42; }\n');
  const r = sh(CC, [flag, '-o', join(work, `triv${flag}`), src]);
  if (r.error) return `${CC} not runnable: ${r.error.message}`;
  return r.status === 0 ? false : `${CC} ${flag} cannot build a trivial program: ${r.out.trim().split('\n')[0]}`;
}

/** A C file of static assertions derived from the TypeScript tables for one compile-time ABI. */
function assertionSource(abi: Abi): string {
  const o = ['#include "sysabi_nr.h"', '#include <asm/unistd.h>', '#define EQ(a, b) _Static_assert((a) == (b), #a " == " #b)'];
  o.push(`EQ(SYSABI_NR_SYSCALLS, ${NR_SYSCALLS[abi]});`);
  for (const a of ABIS) {
    o.push(`EQ(SYSABI_NR_SYSCALLS_${MACRO[a]}, ${NR_SYSCALLS[a]});`, `EQ(SYSABI_NR_ROWS_${MACRO[a]}, ${rows(a).length});`);
    for (const r of rows(a)) o.push(`EQ(SYSABI_NR_${MACRO[a]}_${r.name}, ${r.nr});`);
  }
  const mine = new Set(rows(abi).map((r) => r.name));
  for (const r of rows(abi)) {
    o.push(`EQ(SYSABI_NR_${r.name}, ${r.nr});`);
    // The kernel's own header for this mode, where it already knows the name.
    o.push(`#ifdef __NR_${r.name}`, `EQ(SYSABI_NR_${r.name}, __NR_${r.name});`, '#endif');
  }
  // Names other ABIs have must not leak into this ABI's unprefixed namespace.
  const foreign = new Set(ABIS.flatMap((a) => rows(a).map((r) => r.name)).filter((n) => !mine.has(n)));
  for (const n of foreign) o.push(`#ifdef SYSABI_NR_${n}`, `#error "SYSABI_NR_${n} defined for ${abi}"`, '#endif');
  o.push('int sysabi_nr_h_test(void);', 'int sysabi_nr_h_test(void) { return SYSABI_NR_getpid; }', '');
  return o.join('\n');
}

for (const [abi, flag] of MODES) {
  const cannot = canBuild(flag);
  t.test(`sysabi_nr.h in ${flag} (${abi})`, { skip: cannot }, async (t) => {
    const src = join(work, `assert-${abi}.c`);
    writeFileSync(src, assertionSource(abi));
    const c = sh(CC, [flag, '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-I', INCLUDE, '-c', '-o', join(work, `assert-${abi}.o`), src]);
    t.equal(c.status, 0, `compiles warning-free with every number asserted${c.out ? `:\n${c.out.slice(0, 2000)}` : ''}`);

    const asm = join(work, `asm-${abi}.S`);
    writeFileSync(asm, `#include "sysabi_nr.h"\n\t.text\n\t.globl f\nf:\tmov $SYSABI_NR_getpid, %eax\n\tmov $SYSABI_NR_SYSCALLS, %ecx\n\tret\n`);
    const a = sh(CC, [flag, '-Wall', '-Wextra', '-Werror', '-I', INCLUDE, '-c', '-o', join(work, `asm-${abi}.o`), asm]);
    t.equal(a.status, 0, `usable from preprocessed assembly${a.out ? `:\n${a.out}` : ''}`);

    const other = sh(CC, [flag, '-E', '-dM', '-I', INCLUDE, '-include', 'sysabi_nr.h', '-x', 'c', '/dev/null']);
    t.match(other.out, new RegExp(`#define SYSABI_ABI_NAME "${abi}"`), `SYSABI_ABI_NAME is "${abi}"`);

    // Run it: the number must reach getpid on this kernel, if this ABI's programs run here.
    const prog = join(work, `run-${abi}.c`);
    writeFileSync(
      prog,
      '#define _GNU_SOURCE\n#include <unistd.h>\n#include <sys/syscall.h>\n#include <stdio.h>\n#include "sysabi_nr.h"\n' +
        'int main(void) { long a = syscall(SYSABI_NR_getpid); long b = (long)getpid(); printf("%ld %ld\\n", a, b); return a == b ? 0 : 1; }\n',
    );
    const exe = join(work, `run-${abi}`);
    const l = sh(CC, [flag, '-Wall', '-Wextra', '-Werror', '-I', INCLUDE, '-o', exe, prog]);
    t.equal(l.status, 0, `links${l.out ? `:\n${l.out}` : ''}`);
    // Whether this ABI's programs run at all here (x32 may not be built, ia32 emulation may be
    // off): the trivial program exits 42 only if the kernel really executed it. execvp() falls
    // back to /bin/sh on ENOEXEC, so a bare "did it spawn" check is not enough.
    const probe = sh(join(work, `triv${flag}`), []);
    if (probe.status !== 42) {
      t.comment(`${abi} programs do not run on this machine (${probe.error?.message ?? probe.out.trim().split('\n')[0] ?? 'no exit status'}); kernel check skipped`);
    } else {
      const r = sh(exe, []);
      t.equal(r.status, 0, `syscall(SYSABI_NR_getpid = ${lookupName(abi, 'getpid')?.nr}) returns getpid(): ${r.out.trim()}`);
    }
  });
}
