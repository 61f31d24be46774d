const fs = require('node:fs'); const path = require('node:path'); const assert = require('node:assert');
it('reads data', () => assert.strictEqual(fs.readFileSync(path.join(__dirname, '..', 'data', 'answer.txt'), 'utf8').trim(), '42'));
