'use strict';
// NODE_OPTIONS split into words the way Node splits it (ParseNodeOptionsEnvVar in src/node_options.cc,
// checked on 20, 22 and 26): only a space separates words (a tab does not); a double quote opens or
// closes a quoted stretch anywhere in a word (`--allow-fs-write="/b c"` is one word, `--allow-fs-write=/b c`),
// and inside one a backslash takes the next character literally. Pure.

/** The words of a NODE_OPTIONS value. A value Node would refuse (an unterminated quote) gives what was read. */
function nodeOptionsWords(text) {
  const words = [];
  let quoted = false;
  let fresh = true;
  for (let i = 0; i < text.length; i++) {
    let c = text[i];
    if (c === '\\' && quoted) {
      if (i + 1 === text.length) break; // Node: "invalid escape"
      c = text[++i];
    } else if (c === ' ' && !quoted) {
      fresh = true;
      continue;
    } else if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (fresh) {
      words.push(c);
      fresh = false;
    } else words[words.length - 1] += c;
  }
  return words;
}

module.exports = { nodeOptionsWords };
