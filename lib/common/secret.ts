import { inspect } from 'node:util';

const REDACTED = '<secret>';

/**
 * A value that must never be printed: the webhook token, the Squadcast URL (its key is the credential).
 * String conversion, JSON and `util.inspect` all print `<secret>`; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
