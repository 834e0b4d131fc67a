// Shared set-up for the native target's tests: whether this machine can run the probes
// (x86-64 Linux with probes/build present), and a builder for Cases with the contract's
// defaults, so each test states only what it is about.

import { existsSync } from 'node:fs';
import { RFLAGS_USER_DEFAULT, type Abi } from '../../abi/constants.js';
import { numberOf } from '../../abi/tables/index.js';
import { GPRS64, GPRS32, type Case, type Gpr, type Operand } from '../../harness/contracts.js';
import { defaultProbeDir, probePath } from '../../harness/targets/probe-runner.js';

export const PROBE_DIR = defaultProbeDir();

/** The probes test this kernel only on x86-64 Linux (same rule as the `native` target). */
function nativeSupported(): boolean {
  return process.platform === 'linux' && process.arch === 'x64';
}

/** false, or why these tests cannot run here (for tap's `skip`). */
export function nativeSkip(abi: Abi = 'x86_64'): false | string {
  if (!nativeSupported()) return `native probes need x86-64 Linux (this is ${process.platform}/${process.arch})`;
  if (!existsSync(probePath(PROBE_DIR, abi))) return `${probePath(PROBE_DIR, abi)} not built (run \`make probes\`)`;
  return false;
}

let seq = 0;
export function mkCase(p: Partial<Case> & { abi?: Abi; call?: string }): Case {
  const abi = p.abi ?? 'x86_64';
  const nr = p.nr ?? (p.call ? BigInt(numberOf(abi, p.call)) : 0n);
  const { call, ...rest } = p;
  return {
    id: `native-test/${call ?? 'case'}-${++seq}@${abi}`,
    spec: 'native-test',
    abi,
    entry: abi === 'i386' ? 'int80' : 'syscall',
    code: abi === 'i386' ? 'compat' : '64',
    nr,
    callName: call,
    regs: {},
    rflags: RFLAGS_USER_DEFAULT,
    flags: [],
    memory: [],
    fds: [],
    signals: { actions: {}, blocked: [] },
    isolate: false,
    timeoutMs: 5000,
    ...rest,
  };
}

/** The spec language's sentinel (docs/spec-language.md), rsp left alone. */
export function sentinel(bits: 32 | 64): Partial<Record<Gpr, Operand>> {
  const regs: Partial<Record<Gpr, Operand>> = {};
  const list = bits === 64 ? GPRS64 : GPRS32;
  list.forEach((r, i) => {
    if (r === 'rsp') return;
    const idx = BigInt(i);
    regs[r] = { lit: bits === 64 ? 0x5a5a_0000_0000_0000n | (idx << 8n) | idx : 0x5a00_0000n | (idx << 8n) | idx };
  });
  return regs;
}
