// Matching a case's requirements against a target's profile (DESIGN.md principle 3): a
// case that does not apply is a SKIP with a reason in plain words, never a silent pass.

import type { Abi, TargetInfo } from './contracts.js';
import type { KernelOp, Requires } from './spec/types.js';

export interface RequireOptions {
  /** The run allows cases that change state outside their process (`--destructive`). */
  destructive?: boolean;
}

/** "6.18.0-1-amd64" → [6, 18, 0]; undefined when there is no leading version. */
export function parseKernelVersion(s: string): [number, number, number] | undefined {
  const m = /^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmp(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function holds(op: KernelOp, c: number): boolean {
  switch (op) {
    case '>=': return c >= 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '<': return c < 0;
    case '=': return c === 0;
  }
}

/**
 * null when the case can run on this target for this ABI; otherwise the SKIP reason,
 * e.g. "needs kernel >=5.14, target is 4.16".
 */
export function unmetRequirement(req: Requires, info: TargetInfo, abi: Abi, opts: RequireOptions = {}): string | null {
  const p = info.profile;
  const abiState = info.abis[abi];
  if (abiState && !abiState.ok) {
    return `target cannot run ${abi} code${abiState.reason ? `: ${abiState.reason}` : ''}`;
  }
  if (req.kernel && req.kernel.length > 0) {
    const have = parseKernelVersion(p.kernel);
    const want = req.kernel.map((k) => k.text).join(' ');
    if (!have) return `needs kernel ${want}, target's kernel version "${p.kernel}" is unknown`;
    for (const k of req.kernel) {
      if (!holds(k.op, cmp(have, k.version))) return `needs kernel ${want}, target is ${p.kernel}`;
    }
  }
  if (req.vendor && p.vendor !== req.vendor) {
    return `needs an ${req.vendor === 'amd' ? 'AMD' : 'Intel'} CPU, target's is ${p.vendor === 'unknown' ? 'unknown' : p.vendor === 'amd' ? 'AMD' : 'Intel'}`;
  }
  if (req.ia32 !== undefined && p.ia32 !== req.ia32) {
    return req.ia32 ? 'needs ia32 emulation, target has it disabled' : 'needs ia32 emulation disabled, target has it enabled';
  }
  if (req.x32 !== undefined && p.x32 !== req.x32) {
    return req.x32 ? 'needs x32 syscalls configured, target has none' : 'needs a kernel without x32 syscalls, target has them';
  }
  if (req.vsyscall && !req.vsyscall.includes(p.vsyscall)) {
    return `needs vsyscall=${req.vsyscall.join(' or ')}, target is vsyscall=${p.vsyscall}`;
  }
  if (req.fred !== undefined && p.fred !== req.fred) {
    return req.fred ? 'needs FRED event delivery, target does not use FRED' : 'needs a CPU without FRED, target uses FRED';
  }
  const missing = (req.features ?? []).filter((f) => !p.features.includes(f));
  if (missing.length > 0) return `needs ${missing.join(', ')}, which target ${info.name} does not support`;
  if (req.destructive && !opts.destructive) {
    return 'changes state outside its process; run with --destructive to include it';
  }
  return null;
}
