// webpack 5 resolves each module's real path with fs.realpath's callback form, which lstat-s every folder
// from / down to the project: under the permission model that needs a read of every ancestor, which
// permlearn refuses to grant. With symlinks off, the resolver takes paths as they are.
const path = require('path');
module.exports = {
  mode: 'production',
  target: 'node',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'build'), filename: 'bundle.js' },
  resolve: { symlinks: false },
  resolveLoader: { symlinks: false },
};
