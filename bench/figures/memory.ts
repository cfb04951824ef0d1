import { MAX_BODY_BYTES } from '../../lib/ingest/ingest-webhook';
import { fixed, kib, mib, renderTable } from '../report';
import { slope } from '../stats';
import { defineFigure, need } from './figure';

/** Figure 6: ingest's peak RSS handling one batch, by batch size, up to the largest its body limit lets in. */
export const memory = defineFigure({
  name: 'memory',
  number: 6,
  key: 'memory',
  needs: ['memory'],
  compute: (measured) => {
    const { rows, largestAccepted } = need(measured, 'memory');
    const accepted = rows.filter((row) => row.status === 200);
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
      lambdaMemoryMb: measured.fn('ingest').memoryMb,
    };
  },
  report: (figure) => [
    `6. Ingest memory: peak RSS handling one batch in a fresh process (body limit ${kib(MAX_BODY_BYTES)} KiB = ` +
      `${figure.largestAcceptedAlerts} realistic alerts; Lambda memory ${figure.lambdaMemoryMb} MB)`,
    renderTable(
      [
        'alerts',
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
    `   slope over accepted batches: ${fixed(figure.peakRssBytesPerBodyByte, 1)} bytes of peak RSS per body byte ` +
      '(heap and external: highest seen by a 1 ms sampler)',
  ],
});
