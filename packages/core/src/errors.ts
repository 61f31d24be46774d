// The few failures permlearn throws instead of returning: bad input and broken environments.

/** `too-broad`: a grant that breaks the breadth rule (model/breadth.ts), which no output may carry. */
export type ErrorKind = 'usage' | 'internal' | 'too-broad';

export class PermlearnError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PermlearnError';
  }
}
