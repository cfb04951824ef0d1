import { createHash } from 'node:crypto';
import { isRight } from 'fp-ts/Either';
import { SeverityCodec } from './codec';
import { canonicalJson, DERIVED_ID_PREFIX, sentTimeMs } from './read-alert';

/**
 * What makes an alert "the same alert sent again" rather than "the same id": a digest of the fields
 * its incident shows. De-duplication is keyed on the id AND this fingerprint, so an alert resent
 * with a raised severity or a new title under a known id pages again (its incident says which fields
 * changed), while an identical resend still pages once. Fields the incident only lists (unknown
 * extras) do not change it: Threat Stack adding a field must not page every alert twice.
 */
export const FINGERPRINTED_FIELDS = [
  'title',
  'severity',
  'created_at',
  'server_or_region',
  'source',
  'organization_id',
  'organization_name',
  'organization_Name',
] as const;

export interface AlertFingerprint {
  /** Digest of every fingerprinted field, as the relay reads it (a missing field counts, as missing). */
  readonly value: string;
  /** Per field, a short digest of its value: comparing two versions names the fields that changed. */
  readonly fields: Readonly<Record<string, string>>;
}

const digest = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * What a field's digest is taken of: the value the relay reads from it, not its JSON spelling
 * (severity "2" is 2; created_at "1700000000000", 1700000000000 and "2023-11-14T22:13:20Z" are one
 * instant, in ms), else the value as sent. A number sent as a number digests as it always did, so an
 * alert delivered before this rule keeps its fingerprint.
 */
const READ_AS: Readonly<Partial<Record<(typeof FINGERPRINTED_FIELDS)[number], (value: unknown) => unknown>>> = {
  severity: (value) => {
    const read = SeverityCodec.decode(value);
    return isRight(read) ? read.right : value;
  },
  created_at: (value) => sentTimeMs(value) ?? value,
};

const partOf = (fields: Readonly<Record<string, unknown>>, key: (typeof FINGERPRINTED_FIELDS)[number]): string => {
  if (!Object.hasOwn(fields, key)) return '(absent)';
  const read = READ_AS[key];
  return `=${canonicalJson(read === undefined ? fields[key] : read(fields[key]))}`;
};

/** `fields` as queued (after any cut ingest made): the same alert sent again gives the same fingerprint. */
export const fingerprintOf = (fields: Readonly<Record<string, unknown>>): AlertFingerprint => {
  const parts = Object.fromEntries(FINGERPRINTED_FIELDS.map((key) => [key, digest(partOf(fields, key), 16)]));
  return { value: digest(canonicalJson(parts), 32), fields: parts };
};

/** The fields whose digests differ between an earlier version and this one, in the incident's order. */
export const changedFields = (earlier: Readonly<Record<string, string>>, now: Readonly<Record<string, string>>): string[] =>
  FINGERPRINTED_FIELDS.filter((key) => earlier[key] !== undefined && earlier[key] !== now[key]);

/**
 * How long a delivered alert holds a resend of the same version back. A Threat Stack id is held for
 * the ledger's 30 days. A derived id (`relay-derived-…`, from an alert without a usable id) is held
 * only for DERIVED_ID_HOLD_MS: it stands for the alert's content, and two id-less alerts with the
 * same content an hour apart are two events, while Threat Stack resends a batch within minutes.
 */
export const DERIVED_ID_HOLD_MS = 60 * 60 * 1000;
export const ID_HOLD_MS = 30 * 24 * 60 * 60 * 1000;

export const holdMsFor = (alertId: string): number => (alertId.startsWith(DERIVED_ID_PREFIX) ? DERIVED_ID_HOLD_MS : ID_HOLD_MS);
