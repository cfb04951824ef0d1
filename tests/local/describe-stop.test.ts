import { describeStop, describeStorage } from '../../local/describe-stop';

const quiet = { unfinishedInvocations: 0, released: 0, requestsCutOff: false };

it.each<[string, Parameters<typeof describeStop>[0], Parameters<typeof describeStop>[1], string[]]>([
  [
    'alerts kept in the data directory',
    { ...quiet, depths: { pending: 12, deadLetter: 1 } },
    { kind: 'directory', path: '/srv/relay/.relay-data' },
    [
      'stopped; 12 alerts still waiting for delivery (kept in /srv/relay/.relay-data: delivered when the relay starts again), 1 message in the dead-letter queue',
    ],
  ],
  [
    'an ephemeral run says what it loses',
    { ...quiet, depths: { pending: 1, deadLetter: 0 } },
    { kind: 'ephemeral', reason: '--ephemeral' },
    ['stopped; 1 alert still waiting for delivery (LOST: this run kept them in memory only), 0 messages in the dead-letter queue'],
  ],
  [
    'nothing pending',
    { ...quiet, depths: { pending: 0, deadLetter: 2 } },
    { kind: 'external' },
    ['stopped; nothing waiting for delivery, 2 messages in the dead-letter queue'],
  ],
  [
    'a delivery cut off and a request unanswered',
    { depths: undefined, unfinishedInvocations: 2, released: 13, requestsCutOff: true },
    { kind: 'directory', path: '/d' },
    [
      'stopped; the queues could not be read, so what is pending is unknown',
      '2 deliveries still running at the deadline: 13 alerts released to be tried again',
      'a webhook request was still being handled and got no answer: its sender must send it again',
    ],
  ],
])('%s', (_what, report, storage, lines) => {
  expect(describeStop(report, storage)).toEqual(lines);
});

it('the banner says where the data is kept', () => {
  expect(describeStorage({ kind: 'directory', path: '/d' })).toBe('/d (queues, ledger and status survive a stop or a crash)');
  expect(describeStorage({ kind: 'ephemeral', reason: 'RELAY_DATA_DIR is empty' })).toBe(
    'in memory only (RELAY_DATA_DIR is empty): what is not delivered when it stops is lost',
  );
});
