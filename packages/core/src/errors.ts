// The few failures permlearn throws instead of returning: bad input and broken environments.

/** `too-broad`: a grant that breaks the breadth rule (model/breadth.ts), which no output may carry.
 *  `environment`: the machine, not the input (no writable temporary folder). */
export type ErrorKind = 'usage' | 'internal' | 'too-broad' | 'environment';

export class PermlearnError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'PermlearnError';
  }
}
