// A case's call written as C would name it, with the argument names of SYSCALL_METADATA
// (abi/metadata): "pread64(fd=fd:f, buf=buf:b, count=7, pos=9)". Used by `sysabi explain`.

import { metaForRow } from '../../abi/metadata/index.js';
import type { SyscallRow } from '../../abi/tables/index.js';
import { ARG_REGS, type Case, type Operand } from '../contracts.js';

/** An operand in the short spelling of the spec language (7, 0x5a5a…, buf:b+8, fd:null). */
export function shortOperand(o: Operand | undefined): string {
  if (!o) return '?';
  const lit = (v: bigint): string => (v < 0x10000n ? v.toString() : `0x${v.toString(16)}`);
  let s = o.ref === undefined ? lit(o.lit ?? 0n) : o.ref === 'buf' || o.ref === 'fd' ? `${o.ref}:${o.name}` : o.ref;
  if (o.ref !== undefined && o.add) s += o.add < 0n ? `-${lit(-o.add)}` : `+${lit(o.add)}`;
  if (o.or) s += ` | 0x${o.or.toString(16)}`;
  return s;
}

/**
 * "name(arg=value, ...)" for the row the case calls, or undefined when the metadata table does
 * not know the syscall. `table32` picks the i386 argument registers (ebx ecx edx esi edi ebp).
 */
export function callSignature(row: SyscallRow, c: Pick<Case, 'regs'>, table32: boolean): string | undefined {
  const meta = metaForRow(row);
  if (!meta) return undefined;
  const regs = ARG_REGS[table32 ? '32' : '64'];
  const parts = meta.args.map((a, i) => `${a.name}=${shortOperand(c.regs[regs[i]!])}`);
  return `${row.name}(${parts.join(', ')})`;
}
