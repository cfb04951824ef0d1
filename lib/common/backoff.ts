/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries
 * spread out but never come back at once.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export const backoffWithJitter = (attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number => {
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
