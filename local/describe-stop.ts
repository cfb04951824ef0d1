import type { StopReport, Storage } from './stack';

/** Where the banner says the relay keeps what it accepted. */
export const describeStorage = (storage: Storage): string => {
  switch (storage.kind) {
    case 'directory':
      return `${storage.path} (queues, ledger and status survive a stop or a crash)`;
    case 'ephemeral':
      return `in memory only (${storage.reason}): what is not delivered when it stops is lost`;
    case 'external':
      return 'kept by the SQS and DynamoDB endpoints above';
  }
};

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/** What a stop left behind, in one or two lines. */
export const describeStop = (report: StopReport, storage: Storage): string[] => {
  const lines: string[] = [];
  if (report.depths === undefined) lines.push('stopped; the queues could not be read, so what is pending is unknown');
  else {
    const { pending, deadLetter } = report.depths;
    const kept =
      storage.kind === 'directory'
        ? `kept in ${storage.path}: delivered when the relay starts again`
        : storage.kind === 'ephemeral'
          ? 'LOST: this run kept them in memory only'
          : 'kept by the SQS endpoint';
    lines.push(
      pending === 0
        ? `stopped; nothing waiting for delivery, ${plural(deadLetter, 'message')} in the dead-letter queue`
        : `stopped; ${plural(pending, 'alert')} still waiting for delivery (${kept}), ${plural(deadLetter, 'message')} in the dead-letter queue`,
    );
  }
  if (report.unfinishedInvocations > 0)
    lines.push(
      `${plural(report.unfinishedInvocations, 'delivery', 'deliveries')} still running at the deadline: ${plural(report.released, 'alert')} released to be tried again`,
    );
  if (report.requestsCutOff) lines.push('a webhook request was still being handled and got no answer: its sender must send it again');
  return lines;
};
