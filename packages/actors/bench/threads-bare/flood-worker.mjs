// Bare baseline of cross_node.one_way and cross_node.all_to_all: a worker that posts the same
// item objects as the `bench-flood` actor straight to its peers' MessagePorts, 100 per
// postMessage (an array), and counts what it receives. No codec, no envelopes, no flow control.
//
// From the main thread: { type: 'peers', ports: { [index]: MessagePort } } (transferred), then per
// round { type: 'await', total } to receivers and { type: 'burst', to: [index...], count } to
// senders; a receiver posts { type: 'done', received } once it has received `total` items since
// it started (cumulative, like the actor's, so items overtaking the await are harmless).
import { parentPort, workerData } from 'node:worker_threads';

const BATCH = 100;
const src = workerData.index;
const ports = new Map();
let received = 0;
let expected = -1;

function onBatch(batch) {
  for (let i = 0; i < batch.length; i++) if (batch[i].type === 'item') received++;
  check();
}

function check() {
  if (expected >= 0 && received >= expected) {
    parentPort.postMessage({ type: 'done', received });
    expected = -1;
  }
}

function burst(to, count) {
  const targets = to.map((i) => ports.get(i));
  for (let base = 0; base < count; base += BATCH) {
    const n = Math.min(BATCH, count - base);
    for (const port of targets) {
      const batch = new Array(n);
      for (let k = 0; k < n; k++) batch[k] = { type: 'item', src, seq: base + k };
      port.postMessage(batch);
    }
  }
}

parentPort.on('message', (msg) => {
  switch (msg.type) {
    case 'peers':
      for (const [index, port] of Object.entries(msg.ports)) {
        port.on('message', onBatch);
        ports.set(Number(index), port);
      }
      parentPort.postMessage({ type: 'ready' });
      return;
    case 'await':
      expected = msg.total;
      check();
      return;
    case 'burst':
      burst(msg.to, msg.count);
      return;
    case 'close':
      for (const port of ports.values()) port.close();
      parentPort.close();
      return;
  }
});

// Up: the main thread waits for this before it wires the ports.
parentPort.postMessage({ type: 'up' });
