// Cross-check of the generated tables against the system's kernel headers
// (linux-libc-dev: /usr/include/x86_64-linux-gnu/asm/unistd_{64,32,x32}.h), which the kernel
// generates from the same .tbl files. Every name both sides know must have the same number;
// names only one side has are reported, not failed, because the headers may predate v7.0.

import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import type { Abi } from '../../abi/constants.js';
import { rows } from '../../abi/tables/index.js';

const DIR = process.env.SYSABI_ASM_HEADERS ?? '/usr/include/x86_64-linux-gnu/asm';
const FILES: Record<Abi, string> = { x86_64: 'unistd_64.h', i386: 'unistd_32.h', x32: 'unistd_x32.h' };
const X32_BIT = 0x40000000;

/** `#define __NR_name N` or, in unistd_x32.h, `#define __NR_name (__X32_SYSCALL_BIT + N)`. */
export function parseUnistd(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /^#define\s+__NR_(\w+)\s+(?:\(__X32_SYSCALL_BIT\s*\+\s*(\d+)\)|(\d+))\s*$/gm;
  for (const m of text.matchAll(re)) {
    out.set(m[1]!, m[2] !== undefined ? X32_BIT + Number(m[2]) : Number(m[3]));
  }
  return out;
}

t.test('parseUnistd reads both header styles', async (t) => {
  const m = parseUnistd('#define __NR_read 0\n#define __NR_readv (__X32_SYSCALL_BIT + 515)\n#define __NR_x y\n');
  t.same([...m], [['read', 0], ['readv', 0x40000203]]);
});

for (const abi of ['x86_64', 'i386', 'x32'] as const) {
  const file = `${DIR}/${FILES[abi]}`;
  t.test(`${abi} agrees with ${file}`, { skip: existsSync(file) ? false : `${file} not installed (linux-libc-dev)` }, async (t) => {
    const sys = parseUnistd(readFileSync(file, 'utf8'));
    t.ok(sys.size > 300, `read ${sys.size} numbers from the header`);
    const ours = new Map(rows(abi).map((r) => [r.name, r.nr]));
    let common = 0;
    for (const [name, nr] of sys) {
      const mine = ours.get(name);
      if (mine === undefined) continue;
      common++;
      if (mine !== nr) t.fail(`${abi} ${name}: header says ${nr}, table says ${mine}`);
    }
    t.ok(common > 300, `${common} names in both agree on their numbers`);
    const onlySys = [...sys.keys()].filter((n) => !ours.has(n));
    const onlyOurs = [...ours.keys()].filter((n) => !sys.has(n));
    if (onlySys.length > 0) t.comment(`${abi}: only in ${FILES[abi]} (${onlySys.length}): ${onlySys.join(' ')}`);
    if (onlyOurs.length > 0) t.comment(`${abi}: only in the v7.0 table (${onlyOurs.length}; the header is older): ${onlyOurs.join(' ')}`);
  });
}
