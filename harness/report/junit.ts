// junit.xml for CI dashboards (Jenkins, GitLab, GitHub test reporters), built with
// junit-report-builder: one <testsuite> per target and spec, one <testcase> per case.
// JUnit knows pass/failure/error/skipped only: XFAIL is a pass with its reason in
// system-out, XPASS a failure (a stale expectation), ERROR an error.

import jrb, { type Builder } from 'junit-report-builder';
import { stringify } from 'yaml';
import { diagnostic, groupBySpec, type ReportInput } from './model.js';

// The package is CommonJS (`module.exports = builder`) with ESM-style typings: under Node the
// default import is the builder itself, under some loaders it sits on `.default`.
const junit = ((jrb as unknown as { default?: Builder }).default ?? jrb) as unknown as Builder;

export function renderJunit(input: ReportInput): string {
  const builder = junit.newBuilder();
  const started = new Date(input.report.info.started);
  for (const t of input.report.targets) {
    for (const g of groupBySpec(t.results)) {
      const ec0 = input.cases.get(g.results[0]!.caseId);
      const suite = builder.testSuite().name(`${t.name} ${g.specId}`).timestamp(started);
      suite.property('target', t.name).property('spec', g.specId);
      if (ec0) suite.property('title', ec0.spec.title).property('file', ec0.spec.file);
      if (t.info) suite.property('profile', t.info.profile.name).property('version', t.info.version);
      for (const r of g.results) {
        const ec = input.cases.get(r.caseId);
        const tc = suite.testCase().className(`${t.name}.${g.specId}`).name(r.caseId).time((r.durationMs ?? 0) / 1000);
        if (ec) tc.file(ec.spec.file);
        const details = () => stringify(diagnostic(r, ec, t), { lineWidth: 0 });
        switch (r.status) {
          case 'pass':
            break;
          case 'skip':
            tc.skipped().standardOutput(`SKIP: ${r.reason ?? ''}`);
            break;
          case 'xfail':
            tc.standardOutput(`XFAIL (expected failure): ${r.reason ?? ''}\n${details()}`);
            break;
          case 'xpass':
            tc.failure(`XPASS: ${r.reason ?? ''}`, 'xpass').stacktrace(details());
            break;
          case 'fail':
            tc.failure(r.reason ?? 'failed', 'fail').stacktrace(details());
            break;
          case 'error':
            tc.error(r.reason ?? 'error', 'error', details());
            break;
        }
      }
    }
  }
  return builder.build();
}
