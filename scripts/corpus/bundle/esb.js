require('esbuild').buildSync({ entryPoints: ['src/index.js'], bundle: true, platform: 'node', outfile: 'dist/out.js' });
console.log('built');
