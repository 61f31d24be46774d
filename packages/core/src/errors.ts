// The few failures permlearn throws instead of returning: bad input and broken environments.

export type ErrorKind = 'usage' | 'internal';

export class PermlearnError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PermlearnError';
  }
}
