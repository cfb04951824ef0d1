import { MAX_ALERTS_PER_REQUEST, MAX_BODY_BYTES } from '../../lib/ingest/request-screen';
import { wasAccepted } from '../alerts';
import { TARGETS } from '../config';
import type { MemoryRow, MemoryShape } from '../measure-memory';
import { fixed, kib, mib, renderTable, verdict } from '../report';
import { median, slope } from '../stats';
import type { JsonTiming } from '../workers/json-worker';
import { defineFigure, figureHead, lower, need } from './figure';

/** Lambda gives a function one full vCPU at 1 769 MB, and CPU in proportion to memory below that. */
export const MB_PER_VCPU = 1_769;

/** The shapes whose batch at the alert limit is the worst case for ingest's time. */
const WORST_SHAPES: readonly MemoryShape[] = ['tiny', 'escaped-keys', 'backslash-keys'];

/**
 * A worst batch ingest accepts (MAX_ALERTS_PER_REQUEST alerts of a worst shape) against its budget:
 * half the timeout. Ingest's time is CPU (JSON, reading, signing 500 SendMessageBatch calls sent 50
 * at a time), so its CPU time here, divided by the share of a vCPU Lambda gives at the configured
 * memory, estimates the time in Lambda (pessimistic: it also slows the waits on SQS).
 */
const worstCase = (rows: readonly MemoryRow[], shape: MemoryShape, memoryMb: number, timeoutSeconds: number) => {
  const accepted = rows.find((r) => r.shape === shape && r.alerts === MAX_ALERTS_PER_REQUEST);
  const refused = rows.find((r) => r.shape === shape && r.alerts === MAX_ALERTS_PER_REQUEST + 1);
  if (accepted === undefined) return undefined;
  const cpuShare = Math.min(1, memoryMb / MB_PER_VCPU);
  const estimatedLambdaMs = accepted.cpuMs / cpuShare;
  const budgetMs = (timeoutSeconds * 1000) / 2;
  return {
    shape,
    accepted,
    refused,
    cpuShare,
    estimatedLambdaMs,
    budgetMs,
    memoryMb,
    within: wasAccepted(accepted.status) && estimatedLambdaMs <= budgetMs,
  };
};

const reportWorstCase = (worst: NonNullable<ReturnType<typeof worstCase>>): string[] => [
  `   worst case, ${worst.shape}: ${worst.accepted.alerts} alerts (${kib(worst.accepted.bodyBytes)} KiB) answered ${worst.accepted.status} in ` +
    `${fixed(worst.accepted.handlerMs, 0)} ms, ${fixed(worst.accepted.cpuMs, 0)} ms of CPU; at ${worst.memoryMb} MB Lambda gives ` +
    `${fixed(worst.cpuShare, 2)} vCPU: about ${fixed(worst.estimatedLambdaMs, 0)} ms, budget ${worst.budgetMs} ms (half the timeout): ` +
    (worst.within ? 'within' : 'OVER: lower MAX_ALERTS_PER_REQUEST or raise the memory'),
  ...(worst.refused === undefined
    ? []
    : [`     one more (${worst.refused.alerts}): answered ${worst.refused.status} in ${fixed(worst.refused.handlerMs, 0)} ms`]),
];

const reportJson = (json: readonly JsonTiming[] | undefined): string[] =>
  json === undefined
    ? ['   parseJson: this project has no lib/common/json.ts']
    : [
        `   parseJson (lib/common/json.ts) ÷ native JSON.parse, same body, taking turns, medians of ${json[0]?.parseJsonMs.length ?? 0}:`,
        renderTable(
          ['body', 'KiB', 'parseJson p50 ms', 'JSON.parse p50 ms', 'ratio', `target ≤ ${TARGETS.parseJsonVsNative}`],
          json.map((j) => [
            j.name,
            kib(j.bytes),
            fixed(median(j.parseJsonMs), 1),
            fixed(median(j.nativeMs), 1),
            fixed(j.ratio),
            j.overIngestLimit === true ? 'none: ingest refuses it (413)' : j.ratio <= TARGETS.parseJsonVsNative ? 'met' : 'MISSED',
          ]),
        ),
      ];

/** Figure 6: ingest's peak RSS handling one batch, by batch size, up to the largest its body limit lets in. */
export const memory = defineFigure({
  ...figureHead(6, 'memory', ['memory']),
  compute: (measured) => {
    const { rows, largestAccepted } = need(measured, 'memory');
    const ingest = measured.fn('ingest');
    const accepted = rows.filter((row) => wasAccepted(row.status) && row.shape === 'realistic');
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
      worstCases: WORST_SHAPES.flatMap((shape) => worstCase(rows, shape, ingest.memoryMb, ingest.timeoutSeconds) ?? []),
      json: measured.runs.memory?.json,
      rssTarget: TARGETS.peakRssBytesPerBodyByte,
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
      `(heap and external: highest seen by a 1 ms sampler), target ≤ ${figure.rssTarget}: ` +
      (figure.peakRssBytesPerBodyByte === undefined ? '—' : verdict(figure.peakRssBytesPerBodyByte, figure.rssTarget)),
    ...figure.worstCases.flatMap(reportWorstCase),
    ...reportJson(figure.json),
  ],
  headlines: (figure) => [
    lower('ingest peak RSS bytes per body byte', figure.peakRssBytesPerBodyByte, 1),
    ...figure.worstCases.map((worst) => lower(`ingest CPU ms, ${worst.accepted.alerts} ${worst.shape} alerts`, worst.accepted.cpuMs, 0)),
    // The time as well as the ratio: a reader that slows every later JSON.parse in its process (as the one before
    // 2026-12-07 did) inflates its own denominator, and looks better by the ratio alone than it is.
    ...(figure.json ?? []).flatMap((j) => [
      lower(`parseJson p50 ms, ${j.name}`, median(j.parseJsonMs), 1),
      lower(`parseJson ÷ JSON.parse, ${j.name}`, j.ratio),
    ]),
  ],
});
