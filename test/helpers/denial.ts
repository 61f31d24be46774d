// A denial as the learn loop's unit tests script it: a read of `resource` published on the channel from
// the app's main thread at `<app>/index.js:1:1`, with any field overridden.
import type { Denial } from '../../packages/core/src/model/types.js';

export function channelRead(app: string): (resource: string, extra?: Partial<Denial>) => Denial {
  return (resource, extra = {}) => ({
    permission: 'FileSystemRead',
    resource,
    code: 'ERR_ACCESS_DENIED',
    source: 'channel',
    cwd: app,
    thread: 'main',
    site: `${app}/index.js:1:1`,
    ...extra,
  });
}
