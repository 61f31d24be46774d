// Record files as data: read one (parse.ts), merge many (merge.ts), compare a profile with them (compare.ts).
export * from './parse.js';
export * from './merge.js';
export * from './compare.js';
