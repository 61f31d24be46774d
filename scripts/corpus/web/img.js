import sharp from 'sharp';
const buf = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
await sharp(buf).resize(4, 4).toFile('thumb.png');
console.log('ok: thumb written');
