// The `seccomp:` key of a case turned into Case.seccomp: `strict`, or a list of filters each
// written as cBPF mnemonics (harness/seccomp/asm.ts) or as a rule list (harness/seccomp/rules.ts).
// Compiling here, at expansion time, gives every target the very same instructions and lets
// a bad program be reported at its file:line:col like any other spec error.

import type { Abi } from '../../abi/constants.js';
import type { BpfInsn, SeccompSetup } from '../contracts.js';
import { assemble, BpfAsmError } from '../seccomp/asm.js';
import { compileRules, RuleError, type Rule, type DefaultRule } from '../seccomp/rules.js';
import type { Path } from './doc.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** YAML integers arrive as bigint; the rule compiler takes numbers or strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : `0x${BigInt.asUintN(64, v).toString(16)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/**
 * `tableAbi` names the table `__NR_name` resolves in for mnemonics written without `@abi`
 * (the table the case's entry is decoded with: int $0x80 from 64-bit code → i386).
 */
export function buildSeccomp(input: unknown, tableAbi: Abi, fail: Fail): SeccompSetup | undefined {
  if (input === undefined) return undefined;
  if (input === 'strict') return { mode: 'strict', filters: [] };
  const filters: BpfInsn[][] = [];
  let ok = true;
  (input as Record<string, unknown>[]).forEach((f, i) => {
    if ('bpf' in f) {
      const lines = f.bpf as string[];
      try {
        filters.push(assemble(lines, { abi: tableAbi }));
      } catch (e) {
        if (!(e instanceof BpfAsmError)) throw e;
        ok = false;
        // Each list item is one source line: point at it, and give the column inside it.
        fail(['seccomp', i, 'bpf', e.line - 1], `filter ${i}, instruction ${e.line}, column ${e.col}: ${e.detail}`);
      }
      return;
    }
    const rules = plain(f.rules) as (Rule | DefaultRule)[];
    try {
      filters.push(compileRules(rules));
    } catch (e) {
      ok = false;
      if (e instanceof RuleError) fail(['seccomp', i, 'rules', e.index], `filter ${i}, rule ${e.index}: ${e.detail}`);
      else fail(['seccomp', i, 'rules'], `filter ${i}: ${(e as Error).message}`);
    }
  });
  return ok ? { mode: 'filter', filters } : undefined;
}
