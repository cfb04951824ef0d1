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

/** Builds a value on first use and keeps it for the container's life (e.g. a client only some paths need). */
export const once = <T>(build: () => T): (() => T) => {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
};
