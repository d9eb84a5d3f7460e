// Keeps one CPU awake while the 1-in-flight ask latencies are measured (see cross-node.ts): on this
// virtual machine waking a halted vCPU costs ~100 µs, and whether it halted depends on what ran
// before, so without it the same bare ping-pong measures 15 µs in one round and 120 µs in the next.
// Spins until the main thread sets the shared flag, or `maxMs` passes (it never outlives a run).
import { parentPort, workerData } from 'node:worker_threads';

const flag = new Int32Array(workerData.flag);
const deadline = Date.now() + workerData.maxMs;
parentPort.postMessage({ type: 'up' });
while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) {
  // spin
}
