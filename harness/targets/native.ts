// The `native` target: every Case on the running kernel, through the compiled probes run
// directly (no wrapper). Availability per ABI comes from host detection (harness/host.ts),
// so an i386 case on a kernel with ia32 off is a SKIP with the reason, not a failure.

import { release } from 'node:os';
import type { Target } from '../contracts.js';
import { detectHostFacts } from '../host.js';
import { createProbeTarget, defaultProbeDir } from './probe-runner.js';

export function createNativeTarget(opts: { probeDir?: string } = {}): Target {
  const probeDir = opts.probeDir ?? defaultProbeDir();
  const facts = () => detectHostFacts({ probeDir });
  return createProbeTarget({
    name: 'native',
    version: `linux ${release()}`,
    probeDir,
    describeProfile: async () => (await facts()).profile,
    abiAvailability: async (abi) => (await facts()).abis[abi],
  });
}
