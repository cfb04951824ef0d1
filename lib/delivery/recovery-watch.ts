/**
 * Brings alerts forward when Squadcast comes back. During an outage each failing alert is put back
 * for up to DELIVERY_RETRY_MAX_SECONDS, so without this the last of them would wait that long after
 * Squadcast answers again, while the rate ceiling sat idle. A deliver container remembers the
 * records it put back after a failed attempt (a receipt handle stays valid while its message is
 * invisible), and once an attempt succeeds after attempts have failed for `outageMs` or longer,
 * `wake` hands them back to be made visible at once; the rate limiter then paces them. Random
 * failures (a 500 here and there) never last that long without a success in between, so they
 * never wake anything. A container Lambda recycles forgets its records: they come back on their
 * own schedule, as before.
 */
export interface RecoveryWatch {
  /** Squadcast answered an attempt at `at`: `up` is any answer but a transient failure. */
  answered(up: boolean, at: number): void;
  /** A record this container put back at `now` after a failed attempt, due back at `dueAt`. */
  parked(receiptHandle: string, dueAt: number, now: number): void;
  /** The receipt handles to make visible now: those still parked, once Squadcast has come back; otherwise none. */
  wake(now: number): readonly string[];
}

export interface RecoveryWatchOptions {
  /** How long attempts must have failed, with no success, for a success to count as a recovery. */
  readonly outageMs: number;
  /** Records remembered at most; past it, those already due are forgotten, then the ones parked first. */
  readonly maxParked: number;
}

/**
 * deliver's settings: 30 s without a success is an outage (at any traffic a few random failures in a
 * row last far less); 1000 records a container is more than the rate ceiling can send within
 * DELIVERY_RETRY_MAX_SECONDS (300 s at 150 a minute: 750), after which they are back anyway.
 */
export const RECOVERY_WATCH: RecoveryWatchOptions = { outageMs: 30_000, maxParked: 1_000 };

export const createRecoveryWatch = (options: RecoveryWatchOptions): RecoveryWatch => {
  /** Receipt handle -> when it is due back. Insertion order: the oldest first. */
  const parked = new Map<string, number>();
  /** The first failed answer since the last good one. */
  let failingSince: number | undefined;
  let recovered = false;

  return {
    answered: (up, at) => {
      if (!up) {
        failingSince ??= at;
        return;
      }
      if (failingSince !== undefined && at - failingSince >= options.outageMs) recovered = true;
      failingSince = undefined;
    },
    parked: (receiptHandle, dueAt, now) => {
      parked.set(receiptHandle, dueAt);
      if (parked.size <= options.maxParked) return;
      for (const [handle, due] of parked) if (due <= now) parked.delete(handle);
      for (const oldest of parked.keys()) {
        if (parked.size <= options.maxParked) break;
        parked.delete(oldest);
      }
    },
    wake: (now) => {
      if (!recovered) return [];
      recovered = false;
      // A record already due may have been received again: its handle is stale, and it is back anyway.
      const due = [...parked].filter(([, dueAt]) => dueAt > now).map(([receiptHandle]) => receiptHandle);
      parked.clear();
      return due;
    },
  };
};
