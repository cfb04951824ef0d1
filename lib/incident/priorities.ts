import type { Severity } from '../alert/codec';
import { SEVERITY_WORDS } from '../alert/codec';
import type { Checked } from '../common/checked';
import { invalid, valid } from '../common/checked';

/** Squadcast's priorities, and which one each Threat Stack severity pages at (SEVERITY_PRIORITIES, UNKNOWN_SEVERITY_PRIORITY). */
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
/** P1 is the highest. */
export type Priority = (typeof PRIORITIES)[number];
export type SeverityPriorities = Readonly<Record<Severity, Priority>>;

/** Threat Stack's 1 (most severe), 2, 3 as Squadcast P1, P2, P3 unless SEVERITY_PRIORITIES says otherwise. */
export const DEFAULT_PRIORITIES: SeverityPriorities = { 1: 'P1', 2: 'P2', 3: 'P3' };

/** The highest priority the mapping uses: the default for an alert whose severity could not be read. */
export const highestPriority = (priorities: SeverityPriorities): Priority =>
  PRIORITIES.find((priority) => Object.values(priorities).includes(priority)) ?? 'P1';

/**
 * SEVERITY_PRIORITIES: `severity=priority` pairs, e.g. `1=P1,2=P3,3=P5`; severities left out keep
 * the default (1=P1, 2=P2, 3=P3).
 */
export const parsePriorities = (text: string | undefined): Checked<SeverityPriorities> => {
  const priorities: Record<Severity, Priority> = { ...DEFAULT_PRIORITIES };
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const [index, entry] of entries.entries()) {
    const [severityText = '', priorityText = '', ...rest] = entry.split('=').map((part) => part.trim());
    const severity = SEVERITY_WORDS[severityText.toLowerCase()];
    const priority = PRIORITIES.find((p) => p === priorityText.toUpperCase());
    if (severity === undefined || priority === undefined || rest.length > 0) {
      return invalid(`entry ${index + 1} must look like 1=P1 (severity 1, 2 or 3; priority P1 to P5)`);
    }
    priorities[severity] = priority;
  }
  return valid(priorities);
};

/**
 * UNKNOWN_SEVERITY_PRIORITY: the Squadcast priority of an alert whose severity could not be read,
 * `P1` to `P5`; empty means the highest priority SEVERITY_PRIORITIES uses (an unknown severity may be the worst).
 */
export const parseUnknownPriority = (text: string | undefined, priorities: SeverityPriorities): Checked<Priority> => {
  const entry = (text ?? '').trim().toUpperCase();
  if (entry === '') return valid(highestPriority(priorities));
  const priority = PRIORITIES.find((p) => p === entry);
  return priority === undefined ? invalid('must be P1 to P5, or empty for the highest priority SEVERITY_PRIORITIES uses') : valid(priority);
};
