import { ConfigError } from '../../lib/common/config-error';

/** The ConfigError `read` throws; fails the test if it returns or throws something else. */
export const configErrorOf = (read: () => unknown): ConfigError => {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};
