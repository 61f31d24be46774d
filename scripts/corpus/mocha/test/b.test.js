const fs = require('node:fs'); const path = require('node:path');
it('writes a report', () => { const d = path.join(__dirname, '..', 'reports'); fs.mkdirSync(d, { recursive: true }); fs.writeFileSync(path.join(d, `b-${process.pid}.txt`), 'ok'); });
