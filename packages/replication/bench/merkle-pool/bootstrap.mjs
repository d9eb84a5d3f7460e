// Runs merkle-pool/worker.ts from TypeScript sources in a worker thread: registers tsx in this
// worker (tsx's `--import` hook only reaches the main thread on Node 20), then imports the entry.
// The same bootstrap as packages/actors/src/runtime/threads/bootstrap.mjs, with a fixed entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
