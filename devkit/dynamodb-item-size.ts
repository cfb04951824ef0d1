import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The size DynamoDB bills an item at, from its attribute values, by the rules of "DynamoDB item
 * sizes and formats" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * - an attribute is its name's UTF-8 bytes plus its value's size;
 * - a string is its UTF-8 bytes; a binary its raw bytes; a boolean or null 1 byte;
 * - a number about 1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed);
 * - a list or map 3 bytes plus its elements, each element 1 byte more (a map's keys count as names);
 * - a set the sum of its elements.
 * A write is billed 1 write unit per started KB (1024 bytes) of the larger of the item before and
 * after it; an index entry (the table's key, the index's key and the projected attributes) is
 * billed the same way on each write that puts or changes it.
 */

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/** "1 byte per two significant digits, plus 1": digits without sign, point, exponent, leading or trailing zeros. */
export const numberSize = (spelled: string): number => {
  const mantissa = spelled.replace(/^[-+]/, '').replace(/[eE][-+]?\d+$/, '');
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

export const valueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueSize(element), 0);
  throw new Error('an attribute value of no known type');
};

/** The item's billed size in bytes: every attribute's name and value. */
export const itemSize = (item: Readonly<Record<string, AttributeValue>>): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);

/** The index entry an item puts in a KEYS_ONLY index: the table's key attributes and the index's. */
export const keysOnlyEntrySize = (item: Readonly<Record<string, AttributeValue>>, keyNames: readonly string[]): number =>
  itemSize(Object.fromEntries(keyNames.filter((name) => item[name] !== undefined).map((name) => [name, item[name] as AttributeValue])));

/** Write units for one write of an item this size: 1 per started KB, at least 1. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
