'use strict';
// HMAC-SHA256 (FIPS 180-4, RFC 2104) without node:crypto, for the lines a Node child's recorder and the
// record preload sign: loading crypto costs a process 54 M instructions when nothing else has loaded
// what it needs (a bare process on 22), 5-16 M in a Node child beside the recorder (22, 26). The tags are
// bit for bit those of `createHmac('sha256', key).update(text).digest('base64url').slice(0, 22)`, which
// is how permlearn checks them (runner/evidence.ts, runner/record-files.ts).
//
// The compression function and HMAC's padding run as WebAssembly (its bytes below, built by
// scripts/sha256-wasm.mjs): V8's interpreter takes about 250 000 instructions for one 64-byte block in
// JavaScript, and a child's few dozen lines never reach the optimising compilers; the module compiles in
// well under 1 M and then, as V8's baseline Wasm compiler made it, costs about 22 000 a block (128 000
// for a 180-byte line on 22). Where there is no WebAssembly (--jitless) the same function in JavaScript
// does it.
//
// Only what app code cannot reach is used once a tagger exists: typed arrays read and written by index,
// arithmetic, string concatenation, and functions saved when this file loads, before any app code.

const apply = Reflect.apply;
const bufferFrom = Buffer.from;
const encoder = new TextEncoder();
const encodeInto = TextEncoder.prototype.encodeInto;
const Wasm = typeof WebAssembly === 'object' && WebAssembly !== null ? WebAssembly : undefined;
const WasmModule = Wasm && Wasm.Module;
const WasmInstance = Wasm && Wasm.Instance;
const memoryGrow = Wasm && Wasm.Memory.prototype.grow;
const memoryBuffer = Wasm && Object.getOwnPropertyDescriptor(Wasm.Memory.prototype, 'buffer').get;

// scripts/sha256-wasm.mjs: exports memory, compress(ptr, blocks) and mac(n); constants at 0, schedule at
// 256, state at 512, the key's inner and outer states at 544 and 576, mac()'s result at 608, data from 1024.
const SHA256_WASM =
  'AGFzbQEAAAABCgJgAn9/AGABfwADAwIAAQUDAQAEBxsDBm1lbW9yeQIACGNvbXByZXNzAAADbWFjAAEKjgsC7wMBC38CQANAIAFFDQFBACECA0AgAiAAIAJqKAIAIgxBCHdB/4H8B3EgDEEIeEGA/oN4cXI2AoACIAJBBGoiAkHAAEkNAAsDQCACIAIoAsABIAIoAuQBaiACKALEASEMIAxBB3ggDEESeHMgDEEDdnNqIAIoAvgBIQwgDEEReCAMQRN4cyAMQQp2c2o2AoACIAJBBGoiAkGAAkkNAAtBACgCgAQhA0EAKAKEBCEEQQAoAogEIQVBACgCjAQhBkEAKAKQBCEHQQAoApQEIQhBACgCmAQhCUEAKAKcBCEKQQAhAgNAIAogB0EGeCAHQQt4cyAHQRl4c2ogCSAHIAggCXNxc2ogAigCAGogAigCgAJqIQsgCSEKIAghCSAHIQggBiALaiEHIAUhBiAEIQUgAyEEIAsgBEECeCAEQQ14cyAEQRZ4c2ogBCAFcSAGIAQgBXJxcmohAyACQQRqIgJBgAJJDQALQQBBACgCgAQgA2o2AoAEQQBBACgChAQgBGo2AoQEQQBBACgCiAQgBWo2AogEQQBBACgCjAQgBmo2AowEQQBBACgCkAQgB2o2ApAEQQBBACgClAQgCGo2ApQEQQBBACgCmAQgCWo2ApgEQQBBACgCnAQgCmo2ApwEIABBwABqIQAgAUEBayEBDAALCwuaBwECf0EAQQAoAqAENgKABEEAQQAoAqQENgKEBEEAQQAoAqgENgKIBEEAQQAoAqwENgKMBEEAQQAoArAENgKQBEEAQQAoArQENgKUBEEAQQAoArgENgKYBEEAQQAoArwENgKcBCAAQYABOgCACCAAQQhqQQZ2QQFqQQZ0IQEgAEGBCGpBACABIABrQQlr/AsAIAEgAEHAAGpBHXYiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYC+AcgASAAQcAAakEDdCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgL8B0GACCABQQZ2EABBAEEAKAKABCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgKACEEAQQAoAoQEIgJBCHdB/4H8B3EgAkEIeEGA/oN4cXI2AoQIQQBBACgCiAQiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYCiAhBAEEAKAKMBCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgKMCEEAQQAoApAEIgJBCHdB/4H8B3EgAkEIeEGA/oN4cXI2ApAIQQBBACgClAQiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYClAhBAEEAKAKYBCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgKYCEEAQQAoApwEIgJBCHdB/4H8B3EgAkEIeEGA/oN4cXI2ApwIQQBBgAE6AKAIQaEIQQBBG/wLAEEAQYCADDYCvAhBAEEAKALABDYCgARBAEEAKALEBDYChARBAEEAKALIBDYCiARBAEEAKALMBDYCjARBAEEAKALQBDYCkARBAEEAKALUBDYClARBAEEAKALYBDYCmARBAEEAKALcBDYCnARBgAhBARAAQQBBACgCgAQiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYC4ARBAEEAKAKEBCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgLkBEEAQQAoAogEIgJBCHdB/4H8B3EgAkEIeEGA/oN4cXI2AugEQQBBACgCjAQiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYC7ARBAEEAKAKQBCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgLwBEEAQQAoApQEIgJBCHdB/4H8B3EgAkEIeEGA/oN4cXI2AvQEQQBBACgCmAQiAkEId0H/gfwHcSACQQh4QYD+g3hxcjYC+ARBAEEAKAKcBCICQQh3Qf+B/AdxIAJBCHhBgP6DeHFyNgL8BAsLhwIBAEEAC4ACmC+KQpFEN3HP+8C1pdu16VvCVjnxEfFZpII/ktVeHKuYqgfYAVuDEr6FMSTDfQxVdF2+cv6x3oCnBtybdPGbwcFpm+SGR77vxp3BD8yhDCRvLOktqoR0StypsFzaiPl2UlE+mG3GMajIJwOwx39Zv/ML4MZHkafVUWPKBmcpKRSFCrcnOCEbLvxtLE0TDThTVHMKZbsKanYuycKBhSxykqHov6JLZhqocItLwqNRbMcZ6JLRJAaZ1oU1DvRwoGoQFsGkGQhsNx5Md0gntbywNLMMHDlKqthOT8qcW/NvLmjugo90b2OleBR4yIQIAseM+v++kOtsUKT3o/m+8nhxxg==';

// The round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// The initial state: the first 32 bits of the fractional parts of the square roots of the first 8 primes.
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One 64-byte block of `bytes` from `off` folded into the state `H`; `W` is the message schedule's room. */
function compress(H, W, bytes, off) {
  for (let i = 0; i < 16; i++, off += 4) W[i] = (bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3];
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = H[0];
  let b = H[1];
  let c = H[2];
  let d = H[3];
  let e = H[4];
  let f = H[5];
  let g = H[6];
  let h = H[7];
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/** Copies the 8 words of `from` into `to` (a loop: TypedArray#set is the app's to replace). */
function copy8(to, from) {
  for (let i = 0; i < 8; i++) to[i] = from[i];
}

/** The 8 words of `H` as 32 big-endian bytes into `out` from `off`. */
function putWords(out, off, H) {
  for (let i = 0; i < 8; i++, off += 4) {
    const w = H[i];
    out[off] = w >>> 24;
    out[off + 1] = (w >>> 16) & 0xff;
    out[off + 2] = (w >>> 8) & 0xff;
    out[off + 3] = w & 0xff;
  }
}

/**
 * Where blocks are hashed: `bytes` (room for a text and its padding), `room(n)` (makes room for n bytes:
 * new `bytes` then), `H` (the state, 8 words), `compress(blocks)` over `bytes`, the key's states
 * `inner` and `outer` (8 words each, set by the caller), and `mac(n)`: the HMAC of the first n bytes of
 * `bytes` into `out` (32 bytes).
 */
function wasmBackend() {
  const instance = new WasmInstance(new WasmModule(apply(bufferFrom, Buffer, [SHA256_WASM, 'base64'])), {});
  const memory = instance.exports.memory;
  const compressBlocks = instance.exports.compress;
  const macOf = instance.exports.mac;
  const backend = {
    compress: (blocks) => compressBlocks(1024, blocks),
    mac: (n) => macOf(n),
    room(n) {
      if (n + 72 <= backend.bytes.length) return;
      apply(memoryGrow, memory, [((n + 72 + 1024 - apply(memoryBuffer, memory, []).byteLength) >>> 16) + 1]);
      views();
    },
  };
  function views() {
    const buffer = apply(memoryBuffer, memory, []);
    backend.bytes = new Uint8Array(buffer, 1024);
    backend.H = new Int32Array(buffer, 512, 8);
    backend.inner = new Int32Array(buffer, 544, 8);
    backend.outer = new Int32Array(buffer, 576, 8);
    backend.out = new Uint8Array(buffer, 608, 32);
  }
  views();
  return backend;
}

function jsBackend() {
  const W = new Int32Array(64);
  const backend = {
    bytes: new Uint8Array(4096),
    H: new Int32Array(8),
    inner: new Int32Array(8),
    outer: new Int32Array(8),
    out: new Uint8Array(32),
    compress(blocks) {
      for (let off = 0; blocks > 0; blocks--, off += 64) compress(backend.H, W, backend.bytes, off);
    },
    mac(n) {
      copy8(backend.H, backend.inner);
      finish(backend, n, 64);
      putWords(backend.bytes, 0, backend.H);
      copy8(backend.H, backend.outer);
      finish(backend, 32, 64);
      putWords(backend.out, 0, backend.H);
    },
    room(n) {
      if (n + 72 > backend.bytes.length) backend.bytes = new Uint8Array(n + 72);
    },
  };
  return backend;
}

/** The backend: WebAssembly when it is there and compiles, else JavaScript (or JavaScript if `js`). */
function backendFor(js) {
  if (!js && WasmModule !== undefined) {
    try {
      return wasmBackend();
    } catch {
      // WebAssembly is there but not allowed to compile here
    }
  }
  return jsBackend();
}

/**
 * Hashes the `n` bytes at the start of the backend's bytes into H, which already holds the state of
 * `before` bytes (whole blocks): their whole blocks, then the padding and the length in bits.
 */
function finish(backend, n, before) {
  const bytes = backend.bytes;
  const blocks = ((n + 8) >>> 6) + 1; // with the 0x80 byte and the 8 length bytes
  const end = blocks * 64;
  bytes[n] = 0x80;
  for (let i = n + 1; i < end - 8; i++) bytes[i] = 0;
  const bits = (before + n) * 8; // exact below 2^53
  const high = (bits / 4294967296) >>> 0;
  const low = bits >>> 0;
  bytes[end - 8] = high >>> 24;
  bytes[end - 7] = (high >>> 16) & 0xff;
  bytes[end - 6] = (high >>> 8) & 0xff;
  bytes[end - 5] = high & 0xff;
  bytes[end - 4] = low >>> 24;
  bytes[end - 3] = (low >>> 16) & 0xff;
  bytes[end - 2] = (low >>> 8) & 0xff;
  bytes[end - 1] = low & 0xff;
  backend.compress(blocks);
}

/** The UTF-8 bytes of `text` at the start of the backend's bytes (a lone surrogate as U+FFFD, as
 *  createHmac's update() reads a string); their number. */
function encode(backend, text) {
  backend.room(text.length * 3);
  return apply(encodeInto, encoder, [text, backend.bytes]).written;
}

/**
 * A tagger for `key` (a string, read as UTF-8 like createHmac's): `tag(text)` is the first 22 characters
 * of the base64url HMAC-SHA256 of `text` (its first 128 bits and 4 more), `digest(text)` all 32 bytes.
 * The key's two padded blocks are hashed once, here. `js`: the JavaScript compression (tests).
 */
function hmacSha256(key, js = false) {
  const backend = backendFor(js);
  const k = new Uint8Array(64);
  const n = encode(backend, key);
  if (n > 64) {
    // A longer key is its SHA-256: from the initial state, with no block before it.
    copy8(backend.H, IV);
    const whole = n >>> 6;
    backend.compress(whole);
    const bytes = backend.bytes;
    const rest = n - whole * 64;
    for (let i = 0; i < rest; i++) bytes[i] = bytes[whole * 64 + i];
    finish(backend, rest, whole * 64);
    putWords(k, 0, backend.H);
  } else {
    for (let i = 0; i < n; i++) k[i] = backend.bytes[i];
  }
  const bytes = backend.bytes;
  for (let i = 0; i < 64; i++) bytes[i] = k[i] ^ 0x36;
  copy8(backend.H, IV);
  backend.compress(1);
  copy8(backend.inner, backend.H);
  for (let i = 0; i < 64; i++) bytes[i] = k[i] ^ 0x5c;
  copy8(backend.H, IV);
  backend.compress(1);
  copy8(backend.outer, backend.H);
  /** The HMAC of `text`, in backend.out. */
  function run(text) {
    backend.mac(encode(backend, text));
    return backend.out;
  }
  function tag(text) {
    const mac = run(text);
    // 22 base64url characters: 132 bits, the first 16 bytes and the top 4 bits of the 17th.
    let out = '';
    for (let i = 0; i < 15; i += 3) {
      const n = (mac[i] << 16) | (mac[i + 1] << 8) | mac[i + 2];
      out += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63] + BASE64URL[n & 63];
    }
    return out + BASE64URL[mac[15] >>> 2] + BASE64URL[((mac[15] & 3) << 4) | (mac[16] >>> 4)];
  }
  function digest(text) {
    const mac = run(text);
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = mac[i];
    return out;
  }
  return { tag, digest };
}

module.exports = { hmacSha256, SHA256_WASM };
