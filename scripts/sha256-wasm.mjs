#!/usr/bin/env node
// Builds the WebAssembly module of packages/core/recorder/hmac-sha256.cjs: SHA-256's compression
// function (FIPS 180-4, 6.2.2) and HMAC's padding around it (RFC 2104), written out byte by byte here so
// that no assembler is needed and the module can be checked against its source. Prints the module as
// base64; the recorder file holds that text (test/recorder/hmac-sha256.test.ts checks the two are the same).
// Usage: node scripts/sha256-wasm.mjs
//
// The module exports `memory` (4 pages to start), `compress(ptr, blocks)`, which folds `blocks` 64-byte
// blocks from `ptr` into the state at bytes 512-543 (8 words in the machine's order), and `mac(n)`: from
// the key's inner state (544-575) and outer state (576-607), which the caller sets once, the HMAC of the
// n bytes at 1024 (room for the padding after them) into 608-639, big-endian. Bytes 0-255 hold the round
// constants, 256-511 the message schedule.
import { fileURLToPath } from 'node:url';

export const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const W = 256; // the message schedule
const H = 512; // the state
const INNER = 544; // the key's inner state (after its block xor 0x36), set by the caller
const OUTER = 576; // and its outer one (0x5c)
const MAC = 608; // mac()'s result
const DATA = 1024; // the caller's bytes

/** Unsigned LEB128 (sizes, indices, offsets). */
function u(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 32-bit value (i32.const). */
function s(n) {
  n |= 0;
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items) => [...u(items.length), ...items.flat()];
const section = (id, body) => [id, ...u(body.length), ...body];
const name = (text) => vec([...Buffer.from(text)]);

// Instructions.
const get = (l) => [0x20, ...u(l)];
const set = (l) => [0x21, ...u(l)];
const tee = (l) => [0x22, ...u(l)];
const cnst = (n) => [0x41, ...s(n)];
const load = (offset) => [0x28, 2, ...u(offset)]; // i32.load align=4
const store = (offset) => [0x36, 2, ...u(offset)];
const store8 = (offset) => [0x3a, 0, ...u(offset)];
const [add, sub, and, or, xor, shl, shrU, rotl, rotr, eqz] = [[0x6a], [0x6b], [0x71], [0x72], [0x73], [0x74], [0x76], [0x77], [0x78], [0x45]];
const fill = [0xfc, 0x0b, 0x00]; // memory.fill (dest, value, size)
const loop = (...body) => [0x03, 0x40, ...body.flat(), 0x0b];
const block = (...body) => [0x02, 0x40, ...body.flat(), 0x0b];
const brIf = (depth) => [0x0d, ...u(depth)];
const br = (depth) => [0x0c, ...u(depth)];
const call = (f) => [0x10, ...u(f)];

/** rotr(v, r1) ^ rotr(v, r2) ^ (rotr or shr_u)(v, r3), v a local. */
const sigma = (v, r1, r2, r3, last) => [...get(v), ...cnst(r1), ...rotr, ...get(v), ...cnst(r2), ...rotr, ...xor, ...get(v), ...cnst(r3), ...last, ...xor];
/** The word on the stack, its bytes reversed (wasm loads little-endian, SHA-256 reads big-endian); `x` a spare local. */
const bswap = (x) => [...tee(x), ...cnst(8), ...rotl, ...cnst(0x00ff00ff), ...and, ...get(x), ...cnst(8), ...rotr, ...cnst(0xff00ff00 | 0), ...and, ...or];

// compress(ptr, blocks). Locals: 0 ptr, 1 blocks, 2 i, 3-10 a-h, 11 t1, 12 x. V8 runs the module as its baseline
// compiler (Liftoff) made it, about 22 000 instructions a block on 22: written out round by round, or
// eight rounds a turn with the words renamed instead of moved, it was slower there (43 000, 26 000).
const [PTR, BLOCKS, I, A, B, C, D, E, F, G, HH, T1, X] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const ltU = [0x49];
/** The end of a loop over words: i += 4, and again while i < `end` (a byte offset). */
const nextWord = (end) => [...get(I), ...cnst(4), ...add, ...tee(I), ...cnst(end), ...ltU, ...brIf(0)];
const compress = [
  ...block(
    loop(
      get(BLOCKS),
      eqz,
      brIf(1),
      // W[0..15]: the block's words, big-endian.
      cnst(0),
      set(I),
      loop(
        get(I),
        get(PTR),
        get(I),
        add,
        load(0),
        tee(X),
        cnst(8),
        rotl,
        cnst(0x00ff00ff),
        and,
        get(X),
        cnst(8),
        rotr,
        cnst(0xff00ff00 | 0),
        and,
        or,
        store(W),
        nextWord(64),
      ),
      // W[16..63] = W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]); i is the byte offset of W[t].
      loop(
        get(I),
        get(I),
        load(W - 64),
        get(I),
        load(W - 28),
        add,
        get(I),
        load(W - 60),
        set(X),
        sigma(X, 7, 18, 3, shrU),
        add,
        get(I),
        load(W - 8),
        set(X),
        sigma(X, 17, 19, 10, shrU),
        add,
        store(W),
        nextWord(256),
      ),
      [A, B, C, D, E, F, G, HH].map((l, k) => [...cnst(0), ...load(H + 4 * k), ...set(l)]).flat(),
      cnst(0),
      set(I),
      loop(
        // t1 = h + S1(e) + ch(e, f, g) + K[t] + W[t], ch = g ^ (e & (f ^ g))
        get(HH),
        sigma(E, 6, 11, 25, rotr),
        add,
        get(G),
        get(E),
        get(F),
        get(G),
        xor,
        and,
        xor,
        add,
        get(I),
        load(0),
        add,
        get(I),
        load(W),
        add,
        set(T1),
        get(G),
        set(HH),
        get(F),
        set(G),
        get(E),
        set(F),
        get(D),
        get(T1),
        add,
        set(E),
        get(C),
        set(D),
        get(B),
        set(C),
        get(A),
        set(B),
        // a = t1 + S0(a) + maj(a, b, c), b and c already moved: maj = (a & b) | (c & (a | b)) of the old a, b, c
        get(T1),
        sigma(B, 2, 13, 22, rotr),
        add,
        get(B),
        get(C),
        and,
        get(D),
        get(B),
        get(C),
        or,
        and,
        or,
        add,
        set(A),
        nextWord(256),
      ),
      [A, B, C, D, E, F, G, HH].map((l, k) => [...cnst(0), ...cnst(0), ...load(H + 4 * k), ...get(l), ...add, ...store(H + 4 * k)]).flat(),
      get(PTR),
      cnst(64),
      add,
      set(PTR),
      get(BLOCKS),
      cnst(1),
      sub,
      set(BLOCKS),
      br(0),
    ),
  ),
];

// mac(n): the HMAC of the n bytes at DATA, from the key's inner and outer states, into MAC (32 bytes,
// big-endian). Locals: 0 n, 1 end (the padded length), 2 x.
const [N, END] = [0, 1];
const X2 = 2;
/** The state into bytes at `to` (big-endian). */
const stateOut = (to) => [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [...cnst(0), ...cnst(0), ...load(H + 4 * k), ...bswap(X2), ...store(to + 4 * k)]).flat();
const stateFrom = (from) => [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [...cnst(0), ...cnst(0), ...load(from + 4 * k), ...store(H + 4 * k)]).flat();
const mac = [
  stateFrom(INNER),
  // 0x80 after the text, zeros, and the length in bits of the key block and the text (big-endian, 64 bits)
  get(N),
  cnst(0x80),
  store8(DATA),
  get(N),
  cnst(8),
  add,
  cnst(6),
  shrU,
  cnst(1),
  add,
  cnst(6),
  shl,
  set(END),
  get(N),
  cnst(DATA + 1),
  add,
  cnst(0),
  get(END),
  get(N),
  sub,
  cnst(9),
  sub,
  fill,
  get(END),
  get(N),
  cnst(64),
  add,
  cnst(29),
  shrU,
  bswap(X2),
  store(DATA - 8),
  get(END),
  get(N),
  cnst(64),
  add,
  cnst(3),
  shl,
  bswap(X2),
  store(DATA - 4),
  cnst(DATA),
  get(END),
  cnst(6),
  shrU,
  call(0),
  // the outer hash: the key's outer state, then the inner hash (32 bytes) padded to one block (768 bits)
  stateOut(DATA),
  cnst(0),
  cnst(0x80),
  store8(DATA + 32),
  cnst(DATA + 33),
  cnst(0),
  cnst(27),
  fill,
  cnst(0),
  cnst(0x00030000), // bytes 00 00 03 00: 768 big-endian
  store(DATA + 60),
  stateFrom(OUTER),
  cnst(DATA),
  cnst(1),
  call(0),
  stateOut(MAC),
].flat();

/** The module's bytes. */
export function sha256Module() {
  const code = (locals, body) => {
    const f = [...vec([[...u(locals), 0x7f]]), ...body, 0x0b];
    return [...u(f.length), ...f];
  };
  const constants = Buffer.alloc(256);
  K.forEach((k, i) => constants.writeUInt32LE(k, 4 * i));
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    // types: (i32, i32) -> () and (i32) -> ()
    ...section(
      1,
      vec([
        [0x60, ...vec([[0x7f], [0x7f]]), ...vec([])],
        [0x60, ...vec([[0x7f]]), ...vec([])],
      ]),
    ),
    ...section(3, vec([u(0), u(1)])),
    ...section(5, vec([[0x00, ...u(4)]])),
    ...section(
      7,
      vec([
        [...name('memory'), 0x02, ...u(0)],
        [...name('compress'), 0x00, ...u(0)],
        [...name('mac'), 0x00, ...u(1)],
      ]),
    ),
    ...section(10, vec([code(11, compress), code(2, mac)])),
    ...section(11, vec([[0x00, ...cnst(0), 0x0b, ...vec([...constants])]])),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(Buffer.from(sha256Module()).toString('base64'));
