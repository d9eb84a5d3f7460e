// Baseline of threads.idle_node_rss: a worker that starts, says it is up and stays idle (its
// parent port keeps it alive) until the main thread closes it.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (msg) => {
  if (msg === 'close') parentPort.close();
});
parentPort.postMessage('ready');
