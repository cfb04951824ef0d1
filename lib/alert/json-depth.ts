/**
 * Threat Stack alerts are flat objects. A value nested deeper than this is not an alert, and
 * JSON.stringify overflows the stack on it (around 10 000 levels): ingest would answer 503 for
 * that batch forever. Both helpers recurse at most `limit` levels, however deep the value is.
 */
export const MAX_ALERT_DEPTH = 32;

/** True when arrays or objects are nested more than `limit` levels deep (a flat object is 1). */
export const isNestedDeeperThan = (value: unknown, limit: number): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  return Object.values(value).some((child) => isNestedDeeperThan(child, limit - 1));
};

/** A copy that keeps the first `limit` levels; deeper arrays and objects become a marker string. */
export const cutToDepth = (value: unknown, limit: number): unknown => {
  if (typeof value !== 'object' || value === null) return value;
  if (limit <= 0) return '…(nested too deep)';
  if (Array.isArray(value)) return value.map((child) => cutToDepth(child, limit - 1));
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, cutToDepth(child, limit - 1)]));
};
