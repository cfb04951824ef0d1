import type { ConfigError } from '../../lib/common/config-error';

/** The ConfigError `read` throws; fails the test if it returns or throws something else. */
export const configErrorOf = (read: () => unknown): ConfigError => {
  try {
    read();
  } catch (error) {
    // By name: a handler loaded in its own module registry throws its own copy of the class.
    if (error instanceof Error && error.name === 'ConfigError') return error as ConfigError;
    throw error;
  }
  throw new Error('expected a ConfigError');
};
