const { readFileSync } = require('node:fs');
const path = require('node:path');
test('adds', () => { expect(1 + 2).toBe(3); });
test('reads data', () => { expect(readFileSync(path.join(__dirname, 'data.txt'), 'utf8').trim()).toBe('42'); });
