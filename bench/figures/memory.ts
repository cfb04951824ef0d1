import { MAX_ALERTS_PER_REQUEST, MAX_BODY_BYTES } from '../../lib/ingest/request-screen';
import type { MemoryRow } from '../measurements';
import { fixed, kib, mib, renderTable } from '../report';
import { slope } from '../stats';
import { defineFigure, figureHead, need } from './figure';

/** Lambda gives a function one full vCPU at 1 769 MB, and CPU in proportion to memory below that. */
export const MB_PER_VCPU = 1_769;

/**
 * The worst batch ingest accepts (tiny alerts, MAX_ALERTS_PER_REQUEST of them) against its budget:
 * half the timeout. Ingest's time is CPU (JSON, reading, signing 500 SendMessageBatch calls sent 50
 * at a time), so its CPU time here, divided by the share of a vCPU Lambda gives at the configured
 * memory, estimates the time in Lambda (pessimistic: it also slows the waits on SQS).
 */
const worstCase = (rows: readonly MemoryRow[], memoryMb: number, timeoutSeconds: number) => {
  const accepted = rows.find((r) => r.shape === 'tiny' && r.alerts === MAX_ALERTS_PER_REQUEST);
  const refused = rows.find((r) => r.shape === 'tiny' && r.alerts === MAX_ALERTS_PER_REQUEST + 1);
  if (accepted === undefined) return undefined;
  const cpuShare = Math.min(1, memoryMb / MB_PER_VCPU);
  const estimatedLambdaMs = accepted.cpuMs / cpuShare;
  const budgetMs = (timeoutSeconds * 1000) / 2;
  return {
    accepted,
    refused,
    cpuShare,
    estimatedLambdaMs,
    budgetMs,
    memoryMb,
    within: accepted.status === 200 && estimatedLambdaMs <= budgetMs,
  };
};

const reportWorstCase = (worst: ReturnType<typeof worstCase>): string[] =>
  worst === undefined
    ? []
    : [
        `   worst case: ${worst.accepted.alerts} tiny alerts (${kib(worst.accepted.bodyBytes)} KiB) answered ${worst.accepted.status} in ` +
          `${fixed(worst.accepted.handlerMs, 0)} ms, ${fixed(worst.accepted.cpuMs, 0)} ms of CPU; at ${worst.memoryMb} MB Lambda gives ` +
          `${fixed(worst.cpuShare, 2)} vCPU: about ${fixed(worst.estimatedLambdaMs, 0)} ms, budget ${worst.budgetMs} ms (half the timeout): ` +
          (worst.within ? 'within' : 'OVER: lower MAX_ALERTS_PER_REQUEST or raise the memory'),
        ...(worst.refused === undefined
          ? []
          : [`   one more (${worst.refused.alerts}): answered ${worst.refused.status} in ${fixed(worst.refused.handlerMs, 0)} ms`]),
      ];

/** Figure 6: ingest's peak RSS handling one batch, by batch size, up to the largest its body limit lets in. */
export const memory = defineFigure({
  ...figureHead(6, 'memory', ['memory']),
  compute: (measured) => {
    const { rows, largestAccepted } = need(measured, 'memory');
    const ingest = measured.fn('ingest');
    const accepted = rows.filter((row) => row.status === 200 && row.shape === 'realistic');
    const peakRssBytesPerBodyByte =
      accepted.length >= 2
        ? slope(
            accepted.map((r) => r.bodyBytes),
            accepted.map((r) => r.peakRssBytes),
          )
        : undefined;
    return {
      rows,
      bodyLimitBytes: MAX_BODY_BYTES,
      largestAcceptedAlerts: largestAccepted,
      peakRssBytesPerBodyByte,
      lambdaMemoryMb: ingest.memoryMb,
      worstCase: worstCase(rows, ingest.memoryMb, ingest.timeoutSeconds),
    };
  },
  report: (figure) => [
    `6. Ingest memory and worst case: one batch in a fresh process (limits ${kib(MAX_BODY_BYTES)} KiB and ` +
      `${MAX_ALERTS_PER_REQUEST} alerts: ${figure.largestAcceptedAlerts} realistic alerts; Lambda memory ${figure.lambdaMemoryMb} MB)`,
    renderTable(
      [
        'alerts',
        'shape',
        'body KiB',
        'HTTP',
        'RSS before MiB',
        'peak RSS MiB',
        'peak − before MiB',
        'growth / body bytes',
        'heap used ≤ MiB',
        'external ≤ MiB',
      ],
      figure.rows.map((r) => [
        String(r.alerts),
        r.shape,
        kib(r.bodyBytes),
        String(r.status),
        mib(r.rssBeforeBytes),
        mib(r.peakRssBytes),
        mib(r.peakRssBytes - r.rssBeforeBytes),
        fixed((r.peakRssBytes - r.rssBeforeBytes) / r.bodyBytes, 1),
        mib(r.sampled.heapUsedBytes),
        mib(r.sampled.externalBytes),
      ]),
    ),
    `   slope over accepted realistic batches: ${fixed(figure.peakRssBytesPerBodyByte, 1)} bytes of peak RSS per body byte ` +
      '(heap and external: highest seen by a 1 ms sampler)',
    ...reportWorstCase(figure.worstCase),
  ],
});
