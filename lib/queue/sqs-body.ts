/**
 * SQS accepts only #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF in a
 * body and refuses the message otherwise, which would make ingest answer 503 for that batch forever.
 * JSON.stringify already escapes control characters and lone surrogates; it leaves U+FFFE and U+FFFF
 * as they are. Those are written as \u escapes here, and so are characters beyond U+FFFF, which the
 * local SQS emulator (fauxqs) refuses. The JSON means exactly the same thing.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const OUTSIDE_SQS_SAFE_SET = /[\uFFFE\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

const escapeUnits = (text: string): string => Array.from({ length: text.length }, (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');

/** JSON text that SQS (and its local emulator) accepts as a message body. */
export const toSqsBody = (value: unknown): string => (JSON.stringify(value) ?? 'null').replace(OUTSIDE_SQS_SAFE_SET, escapeUnits);
