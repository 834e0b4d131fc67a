// `sysabi fuzz --targets A,B --seed S --count N`: random safe cases on two targets; every
// disagreement minimised and written as a spec file (harness/fuzz.ts, docs/fuzz.md).
// Exit 0 no disagreement, 1 disagreements (files written), 2 usage error or unavailable target.

import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ABIS, type Abi } from '../../abi/constants.js';
import type { Target } from '../contracts.js';
import { toJson } from '../json.js';

const HELP = `Usage: sysabi fuzz [--targets A,B] [--seed S] [--count N] [options]

Generates N random cases per ABI — random register values (sentinels, 0, all ones, sign
bits, non-canonical addresses), RFLAGS bits (DF AC NT CF ... and rarely TF), and syscall
numbers from a safe set (getpid & co., close of a closed fd, write to /dev/null, read or
write with a bad pointer, unimplemented, out-of-range and negative numbers, high bits in
RAX) — runs them on A and B, and compares the Observations field by field (as sysabi diff
does). Each kind of disagreement is minimised (registers and flags dropped, values
simplified while it persists) and written to DIR as a spec file that loads as is, with
the seed in a comment; A is the reference whose observations become the expectations.
The same seed always gives the same cases.

Options:
  -t, --targets A,B   the two targets (default native,sim); a bare 'sim' is sim:host here
  -s, --seed S        decimal seed (default: a random one, printed)
  -n, --count N       cases per ABI before sharding (default 500)
  -a, --abi LIST      ABIs (default all three; an ABI a target cannot run is not compared)
  -e, --entries LIST  syscall,int80 (default both; i386 always uses int80)
      --shard i/n     only case indexes i-1, i-1+n, ... (the same cases as unsharded)
  -o, --out DIR       where findings go (default reports/fuzz-s<seed>)
      --max-findings N  minimise at most N kinds of disagreement (default 25)
  -f, --format F      text (default) or json
      --sim-profile P the profile a bare 'sim' stands for (default host)
  -q, --quiet         no progress on stderr

Exit: 0 no disagreement, 1 disagreements, 2 usage error or a target unavailable.
`;

export async function fuzzCommand(args: string[], root: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        targets: { type: 'string', short: 't', multiple: true },
        seed: { type: 'string', short: 's' },
        count: { type: 'string', short: 'n' },
        abi: { type: 'string', short: 'a', multiple: true },
        entries: { type: 'string', short: 'e', multiple: true },
        shard: { type: 'string' },
        out: { type: 'string', short: 'o' },
        'max-findings': { type: 'string' },
        format: { type: 'string', short: 'f' },
        'sim-profile': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    return err(`sysabi fuzz: ${(e as Error).message}\n\n${HELP}`), 2;
  }
  const v = parsed.values;
  if (v.help) return out(HELP), 0;
  const usage = (m: string) => (err(`sysabi fuzz: ${m}`), 2);
  const list = (xs: string[] | undefined) => (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const targets = list(v.targets);
  if (!targets.length) targets.push('native', 'sim');
  if (targets.length !== 2) return usage(`--targets needs exactly two targets (got ${targets.join(', ')}), e.g. --targets native,sim`);
  const seed = v.seed ?? String(randomInt(0, 2 ** 47));
  if (!/^\d{1,15}$/.test(seed)) return usage(`--seed "${seed}": expected a decimal integer of at most 15 digits`);
  const count = Number(v.count ?? '500');
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) return usage(`--count "${v.count}": expected an integer from 1 to 1000000`);
  const maxFindings = Number(v['max-findings'] ?? '25');
  if (!Number.isInteger(maxFindings) || maxFindings < 0) return usage(`--max-findings "${v['max-findings']}": expected an integer >= 0`);
  const abis = list(v.abi);
  for (const a of abis) if (!(ABIS as readonly string[]).includes(a)) return usage(`--abi "${a}": expected one of ${ABIS.join(', ')}`);
  const fuzz = await import('../fuzz.js');
  const entries = list(v.entries);
  for (const e of entries) if (!(fuzz.FUZZ_ENTRIES as readonly string[]).includes(e)) return usage(`--entries "${e}": expected one of ${fuzz.FUZZ_ENTRIES.join(', ')}`);
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json') return usage(`--format "${format}": expected text or json`);

  const registry = await import('../targets/registry.js');
  await import('../targets/emulators.js');
  await import('../targets/jsonl.js');
  const run = await import('../run.js');
  let shard;
  try {
    shard = v.shard ? run.parseShard(v.shard) : undefined;
  } catch (e) {
    return usage((e as Error).message);
  }
  // 'host' by default: a fuzz run looks for model bugs, not for the configuration differences
  // between this machine and a named profile (those are what the profile specs are for).
  const tctx = { simProfile: v['sim-profile'] ?? 'host', cwd: process.cwd() };
  const made: { name: string; target: Target }[] = [];
  try {
    for (const t of targets) {
      const p = registry.parseTargetSpec(t, tctx);
      const c = await registry.createTarget(p, tctx);
      if (!c.ok) return usage(`target ${c.name} is not available: ${c.reason}`);
      made.push({ name: c.name, target: c.target });
    }
    if (made[0]!.name === made[1]!.name) return usage(`--targets: "${made[0]!.name}" is named twice`);
    const sides = [];
    for (const m of made) sides.push({ ...m, info: await m.target.describe() });
    const outDir = v.out ?? join(root, 'reports', `fuzz-s${seed}`);
    const command = ['sysabi fuzz', `--targets ${made.map((m) => m.name).join(',')}`, `--seed ${seed}`, `--count ${count}`, ...(abis.length ? [`--abi ${abis.join(',')}`] : []), ...(entries.length ? [`--entries ${entries.join(',')}`] : []), ...(v.shard ? [`--shard ${v.shard}`] : [])].join(' ');
    if (!v.quiet) err(`sysabi fuzz: seed ${seed} (repeat with --seed ${seed})`);
    const rep = await fuzz.runFuzz([sides[0]!, sides[1]!], {
      seed, count, shard, outDir, maxFindings, command,
      abis: (abis.length ? abis : [...ABIS]) as Abi[],
      entries: (entries.length ? entries : [...fuzz.FUZZ_ENTRIES]) as ('syscall' | 'int80')[],
      log: v.quiet ? undefined : (s) => err(s),
    });
    if (format === 'json') {
      // Observations and minimiser internals stay out of the JSON: ids, fields, files, verdicts.
      const slim = { ...rep, findings: rep.findings.map(({ minimised, original: _o, ...f }) => ({ ...f, steps: minimised?.steps, diffs: minimised?.result.diffs, flaky: minimised?.flaky })) };
      out(toJson(slim, 2));
    } else out(fuzz.renderFuzzText(rep));
    return rep.stats.some((s) => s.differing > 0) ? 1 : 0;
  } finally {
    for (const m of made) await m.target.close?.().catch(() => undefined);
  }
}
