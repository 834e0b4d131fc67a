// Test helper: a one-case spec written inline (just the case's YAML), loaded and expanded the
// way the loader does it, for tests of one spec-language feature.
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';

/** Expand a spec with one case (`caseYaml`, unindented) for `abi` ("x86_64", "[x86_64, i386]"…), tagged `tag`. */
export function inlineCase(tag: string, abi: string, caseYaml: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.inline\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [${tag}]\nabi: [${abi}]\ncases:\n  - name: c\n${caseYaml.replace(/^/gm, '    ')}\n`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

/** The single case `inlineCase` expands to; throws with the loader's messages otherwise. */
export function oneCase(tag: string, abi: string, caseYaml: string): ExpandedCase {
  const { cases, errors } = inlineCase(tag, abi, caseYaml);
  if (errors.length || cases.length !== 1) throw new Error(`expected one case: ${errors.map((e) => e.message).join('; ')}`);
  return cases[0]!;
}
