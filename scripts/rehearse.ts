import { formatReport, rehearse } from './rehearsal/rehearse';

/** `npm run rehearse`: the deploy rehearsal (scripts/rehearsal/rehearse.ts); exit 1 on any mismatch. */
const main = async (): Promise<void> => {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      "usage: npm run rehearse\n  Packages the rehearsal stage twice, lints it and checks the AWS rules moto does not enforce, creates\n  infra/bootstrap.yml in moto on 127.0.0.1, runs the real serverless deploy / remove through the stack's\n  life cycle (create, update, a failed update rolled back, remove, create again), runs the packaged\n  bundles against the stack, and checks every call against its role (the CLI's against the GitHub\n  deploy role) and every alarm against what is printed.\n",
    );
    return;
  }
  const started = Date.now();
  const report = await rehearse({ log: (line) => process.stdout.write(`... ${line}\n`) });
  for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
  const failed = report.sections.flatMap((s) => s.findings).filter((f) => !f.ok).length;
  process.stdout.write(
    `\n${failed === 0 ? 'rehearsal passed' : `rehearsal FAILED: ${failed} mismatch(es)`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
};

main().catch((error: unknown) => {
  process.stderr.write(`rehearsal could not run: ${(error as Error)?.message ?? String(error)}\n`);
  process.exitCode = 1;
});
