// Builders for fabricated Cases used by the sim kernel tests (no spec loader involved).
import type { Case, Gpr, Operand } from '../../../harness/contracts.js';

export function mkCase(over: Partial<Case> & { regs?: Partial<Record<Gpr, Operand>> }): Case {
  const abi = over.abi ?? 'x86_64';
  return {
    id: over.id ?? 'test/case@' + abi,
    spec: 'test',
    abi,
    entry: over.entry ?? (abi === 'i386' ? 'int80' : 'syscall'),
    code: over.code ?? (abi === 'i386' ? 'compat' : '64'),
    nr: over.nr ?? 0n,
    regs: over.regs ?? {},
    rflags: over.rflags ?? 0x202n,
    flags: over.flags ?? [],
    memory: over.memory ?? [],
    fds: over.fds ?? [],
    signals: over.signals ?? { actions: {}, blocked: [] },
    isolate: false,
    timeoutMs: 5000,
    ...over,
  } as Case;
}
export const lit = (v: bigint | number): Operand => ({ lit: BigInt(v) });
