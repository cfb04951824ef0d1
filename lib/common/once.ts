/** Builds a value on first use and keeps it for the container's life (e.g. a client only some paths need). */
export const once = <T>(build: () => T): (() => T) => {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
};
