'use strict';
// `node --require permlearn/record …`: complain mode from the permlearn package itself. The preload
// lives in the library (@permlearn/core/record); this is the short name the docs give.
require('@permlearn/core/record');
