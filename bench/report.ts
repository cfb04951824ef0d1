/** Plain-text tables for the terminal: columns padded to their widest cell, numbers right-aligned. */
export const renderTable = (headers: readonly string[], rows: readonly (readonly string[])[]): string => {
  const ragged = rows.findIndex((row) => row.length !== headers.length);
  if (ragged >= 0) throw new Error(`renderTable: row ${ragged} has ${rows[ragged]?.length} cells for ${headers.length} headers`);
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const isNumeric = (column: number): boolean =>
    rows.length > 0 && rows.every((row) => /^[-+]?[\d.,]+(\s?[a-zA-Z%×/]*)?$|^[—-]$/.test(row[column] ?? ''));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (isNumeric(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
};

/** Fixed decimals; `—` for a value that could not be measured. */
export const fixed = (value: number | undefined, digits = 2): string =>
  value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);

export const verdict = (ratio: number, target: number): string => (ratio <= target ? 'meets target' : 'MISSES target');

export const kib = (bytes: number): string => (bytes / 1024).toFixed(1);
export const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
export const dollars = (value: number): string => `$${value.toFixed(value < 1 ? 3 : 2)}`;
