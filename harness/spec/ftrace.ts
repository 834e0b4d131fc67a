// The `ftrace:` expectation of a case (issue 7; docs/ftrace.md, docs/spec-language.md
// "ftrace"): the exact list of syscall events the case's call produced, turned into
// FtraceEventCheck lists at expansion time. Event names are SYSCALL_DEFINE names from the
// committed metadata table (abi/metadata); numbers are x86_64 numbers, because the kernel
// traces only x86_64 syscalls (arch_trace_is_compat_syscall).

import { lookupName, syscallNames } from '../../abi/tables/index.js';
import { metadataNames, metaOf } from '../../abi/metadata/index.js';
import type { Path } from './doc.js';
import { didYouMean } from './errors.js';
import type { MatcherInput } from './schema.js';
import type { FtraceEventCheck, Matcher } from './types.js';
import type { NameSpace } from './values.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

interface FtraceIn {
  event: 'sys_enter' | 'sys_exit';
  name?: string;
  nr?: MatcherInput;
  args?: MatcherInput[];
  ret?: MatcherInput;
}

/** x86_64 names for `nr:` (the number an ftrace event carries is always an x86_64 one). */
export const X86_64_NS: NameSpace = {
  what: 'syscall name (x86_64 table: ftrace numbers are x86_64 numbers)',
  lookup: (s) => { const r = lookupName('x86_64', s); return r ? BigInt(r.nr) : undefined; },
  names: () => syscallNames('x86_64'),
};

export function parseFtraceExpect(
  list: FtraceIn[], base: Path, fail: Fail,
  matcher: (v: MatcherInput, p: Path, ns?: NameSpace) => Matcher | undefined,
): FtraceEventCheck[] {
  return list.map((e, i) => {
    const p: Path = [...base, i];
    const out: FtraceEventCheck = { event: e.event, fields: [] };
    if (e.name !== undefined) {
      if (!metaOf(e.name)) {
        fail([...p, 'name'], `"${e.name}" is not a syscall with ftrace metadata (abi/metadata, events sys_enter_<name>)${didYouMean(e.name, metadataNames())}`);
      } else out.name = e.name;
    }
    if (e.nr !== undefined) { const m = matcher(e.nr, [...p, 'nr'], X86_64_NS); if (m) out.fields.push({ field: 'nr', m }); }
    if (e.args !== undefined) {
      if (e.event !== 'sys_enter') fail([...p, 'args'], 'args: belongs to a sys_enter event (sys_exit records only the return value)', true);
      else {
        out.argCount = e.args.length;
        e.args.forEach((v, j) => { const m = matcher(v, [...p, 'args', j]); if (m) out.fields.push({ field: `args.${j}`, m }); });
      }
    }
    if (e.ret !== undefined) {
      if (e.event !== 'sys_exit') fail([...p, 'ret'], 'ret: belongs to a sys_exit event (sys_enter records the number and arguments)', true);
      else { const m = matcher(e.ret, [...p, 'ret']); if (m) out.fields.push({ field: 'ret', m }); }
    }
    return out;
  });
}

/** A field of an observed ftrace event by its check path ("nr", "args.2", "ret"). */
export function ftraceField(ev: Record<string, unknown>, path: string): bigint | undefined {
  const [k, j] = path.split('.');
  let v: unknown = ev[k!];
  if (j !== undefined) v = Array.isArray(v) ? v[Number(j)] : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return undefined;
}
