/**
 * Runs an async initialisation once per container and shares its promise. A failure is not
 * cached: the next invocation tries again (an SSM hiccup must not poison a warm container).
 */
export const lazy = <T>(init: () => Promise<T>): (() => Promise<T>) => {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= init().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
};
