import { marshall } from '@aws-sdk/util-dynamodb';
import { itemSize, keysOnlyEntrySize, numberSize, valueSize, writeUnits } from '../../devkit/dynamodb-item-size';

describe('DynamoDB item sizes (CapacityUnitCalculations)', () => {
  it.each<[string, number]>([
    ['0', 2],
    ['7', 2],
    ['12', 2],
    ['123', 3],
    ['1733500000123', 8],
    ['-1.50', 2],
    ['00042000', 2],
    ['1.5e10', 2],
  ])('the number %s takes %i bytes (1 per two significant digits, plus 1)', (spelled, bytes) => {
    expect(numberSize(spelled)).toBe(bytes);
  });

  it('counts strings in UTF-8 bytes, names included', () => {
    expect(itemSize({ pk: { S: 'alert#é' } })).toBe(2 + 8);
    expect(itemSize({ é: { BOOL: true } })).toBe(2 + 1);
  });

  it('adds 3 bytes to a map or a list, and 1 to each element', () => {
    expect(valueSize({ M: {} })).toBe(3);
    expect(valueSize({ M: { a: { S: 'xy' }, b: { NULL: true } } })).toBe(3 + (1 + 1 + 2) + (1 + 1 + 1));
    expect(valueSize({ L: [{ S: 'x' }, { N: '10' }] })).toBe(3 + (1 + 1) + (1 + 2));
  });

  it('sums the elements of a set', () => {
    expect(valueSize({ SS: ['abc', 'de'] })).toBe(5);
    expect(valueSize({ NS: ['1', '22', '333'] })).toBe(2 + 2 + 3);
    expect(valueSize({ BS: [new Uint8Array(4)] })).toBe(4);
  });

  it('sizes an item as the ledger writes it, and its KEYS_ONLY index entry', () => {
    const item = marshall({ pk: 'alert#abc', state: 'delivered', activity: 'delivered', deliveredAt: '2026-12-07T00:00:00.000Z' });
    expect(itemSize(item)).toBe(2 + 9 + 5 + 9 + 8 + 9 + 11 + 24);
    expect(keysOnlyEntrySize(item, ['pk', 'activity', 'deliveredAt'])).toBe(2 + 9 + 8 + 9 + 11 + 24);
  });

  it('refuses a value of no known type', () => {
    expect(() => valueSize({} as never)).toThrow('no known type');
  });

  it.each<[number, number]>([
    [0, 1],
    [1024, 1],
    [1025, 2],
  ])('a write of a %i-byte item costs %i write units', (bytes, units) => {
    expect(writeUnits(bytes)).toBe(units);
  });
});
