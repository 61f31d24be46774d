'use strict';
// Drop-plan verification: once permlearn sees the app ready it writes the planned drops to
// config.dropFile; the recorder applies them in the app, as the app's own code would after start-up,
// and says so (`dropped`, with how many it applied, or the error that stopped it).
const fs = require('fs');

/** `send`: the transport's. */
function installDropper(dropFile, send) {
  const timer = setInterval(() => {
    if (!fs.existsSync(dropFile)) return;
    clearInterval(timer);
    let applied = 0;
    try {
      const drops = JSON.parse(fs.readFileSync(dropFile, 'utf8'));
      for (const d of drops) {
        if (d.reference === undefined) process.permission.drop(d.scope);
        else process.permission.drop(d.scope, d.reference);
        applied++;
      }
      // The file's own grant goes too: nothing of permlearn's is left behind in the app.
      process.permission.drop('fs.read', dropFile);
    } catch (err) {
      send({ t: 'dropped', time: Date.now(), applied, error: String(err && err.message) });
      return;
    }
    send({ t: 'dropped', time: Date.now(), applied });
  }, 20);
  timer.unref();
}

module.exports = { installDropper };
