// `sysabi diff --targets a,b [specs|ids]`: run the same cases on two targets and list every
// field where their Observations differ (harness/diff.ts), pass or not. Exit 0 no difference,
// 1 differences, 2 usage or spec errors.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ABIS, type Abi } from '../../abi/constants.js';
import { toJson } from '../json.js';

const HELP = `Usage: sysabi diff --targets A,B [specs|ids ...] [options]

Runs the selected cases (default: every spec) on targets A and B and compares their
Observations field by field: outcome, the registers the case set, every register after
the call, signal fields, traps, delivered signals, exit status, memory read back, trace
events. Values that are target-specific (pid, tid, buffer addresses, next_ip, fds, registers
left unchanged) are compared through each side's env facts, not raw. Every difference is
listed, also where both sides pass the spec. Cases skipped or unsupported on a side are
counted as not compared.

Options:
  -t, --targets A,B   the two targets (any 'sysabi run --target' name, e.g. native,qemu)
  -a, --abi LIST      only these ABIs
  -g, --grep RE       only case ids matching RE
      --shard i/n     the i-th of n round-robin shards of the selected cases
  -f, --format F      text (default) or json
  -v, --verbose       also list the cases not compared, with why
      --sim-profile P the profile a bare 'sim' stands for

Exit: 0 no difference, 1 differences, 2 usage or spec error.
`;

export async function diffCommand(args: string[], root: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        targets: { type: 'string', short: 't', multiple: true },
        abi: { type: 'string', short: 'a', multiple: true },
        grep: { type: 'string', short: 'g' },
        shard: { type: 'string' },
        format: { type: 'string', short: 'f' },
        verbose: { type: 'boolean', short: 'v' },
        'sim-profile': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    return err(`sysabi diff: ${(e as Error).message}\n\n${HELP}`), 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) return out(HELP), 0;
  const usage = (m: string) => (err(`sysabi diff: ${m}`), 2);
  const targets = (v.targets ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  if (targets.length !== 2) return usage(`--targets needs exactly two targets (got ${targets.length ? targets.join(', ') : 'none'}), e.g. --targets native,qemu`);
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json') return usage(`--format "${format}": expected text or json`);
  const abis = (v.abi ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  for (const a of abis) if (!(ABIS as readonly string[]).includes(a)) return usage(`--abi "${a}": expected one of ${ABIS.join(', ')}`);
  let grep: RegExp | undefined;
  try {
    grep = v.grep === undefined ? undefined : new RegExp(v.grep);
  } catch (e) {
    return usage(`--grep "${v.grep}": ${(e as Error).message}`);
  }

  const registry = await import('../targets/registry.js');
  await import('../targets/emulators.js');
  await import('../targets/jsonl.js');
  const run = await import('../run.js');
  const tctx = { simProfile: v['sim-profile'], cwd: process.cwd() };
  try {
    const names = targets.map((t) => registry.parseTargetSpec(t, tctx).name);
    if (names[0] === names[1]) return usage(`--targets: "${names[0]}" is named twice`);
  } catch (e) {
    return usage(`--targets: ${(e as Error).message}`);
  }
  let shard;
  try {
    shard = v.shard ? run.parseShard(v.shard) : undefined;
  } catch (e) {
    return usage((e as Error).message);
  }
  const { paths, ids } = run.splitOperands(positionals);
  const loaded = await run.loadCases(paths.length ? paths : [join(root, 'specs')]);
  if (loaded.errors.length) {
    for (const e of loaded.errors) err(loaded.format(e));
    return err(`sysabi diff: ${loaded.errors.length} spec error(s); nothing was run`), 2;
  }
  const { cases, unmatched } = run.selectCases(loaded.cases, { ids, abis: abis as Abi[], grep, shard });
  if (unmatched.length) return usage(`no case matches ${unmatched.map((u) => `"${u}"`).join(', ')} (see \`sysabi list\`)`);
  const { runDiff, renderDiffText } = await import('../diff.js');
  const rep = await runDiff(cases, [targets[0]!, targets[1]!], { targetContext: tctx });
  if (format === 'json') out(toJson(rep, 2));
  else out(renderDiffText(rep, v.verbose === true));
  if (rep.unavailable.length && rep.compared === 0) {
    err(`sysabi diff: nothing compared (${rep.unavailable.join('; ')})`);
    return 2;
  }
  return rep.differing.length ? 1 : 0;
}
