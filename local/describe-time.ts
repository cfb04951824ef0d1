const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "3 hours ago", "just now": the largest whole unit, for people scanning a status. */
export const describeAge = (at: Date, now: Date): string => {
  const ms = now.getTime() - at.getTime();
  if (ms < 0) return 'in the future (clock skew)';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(ms / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
};
