export default { root: 'web', build: { outDir: '../dist', emptyOutDir: true } };
