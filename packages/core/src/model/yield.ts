// Long pure passes (planning thousands of denials, parsing a report of thousands of lines) pause now
// and then, so that timers and signal handlers run: Ctrl-C is answered during them, not after.

/** Let timers and signal handlers run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
