import type { Severity } from '../alert/codec';
import { SEVERITY_WORDS } from '../alert/codec';
import type { Checked } from '../common/checked';
import { invalid, valid } from '../common/checked';

/**
 * DELIVER_SEVERITIES: a comma-separated list of 1, 2, 3 (or high, medium, low); empty means all.
 * Filtering every severity out is refused: the relay would then page no one, silently.
 */
export const parseSeverities = (text: string | undefined): Checked<ReadonlySet<Severity>> => {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  if (entries.length === 0) return valid(new Set<Severity>([1, 2, 3]));
  const severities = new Set<Severity>();
  for (const [index, entry] of entries.entries()) {
    const severity = SEVERITY_WORDS[entry];
    if (severity === undefined) return invalid(`entry ${index + 1} is not a severity (1, 2, 3, high, medium or low)`);
    severities.add(severity);
  }
  return valid(severities);
};
