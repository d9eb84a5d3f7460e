// Runs a node worker from TypeScript sources: registers tsx in this worker (tsx's `--import` hook
// only reaches the main thread on Node 20), then imports the real entry named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
