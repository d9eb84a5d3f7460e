// Bare baseline of the cross_node.ask_* latencies: worker-to-worker request/response over one
// MessageChannel, one postMessage per request and per reply. The `echo` role answers with the
// request's number; the `asker` role keeps `inFlight` requests outstanding and reports the
// round's latency percentiles (µs, nearest rank, the same as the `bench-asker` actor).
import { parentPort, workerData } from 'node:worker_threads';

const role = workerData.role;
let port = null;

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function run(count, inFlight) {
  const startedAt = new Float64Array(count);
  const latenciesUs = [];
  let started = 0;
  const launch = () => {
    const n = started++;
    startedAt[n] = performance.now();
    port.postMessage({ type: 'echo', n });
  };
  port.on('message', (reply) => {
    latenciesUs.push((performance.now() - startedAt[reply.n]) * 1000);
    if (started < count) launch();
    if (latenciesUs.length < count) return;
    port.removeAllListeners('message');
    latenciesUs.sort((a, b) => a - b);
    parentPort.postMessage({ type: 'done', p50: percentile(latenciesUs, 0.5), p99: percentile(latenciesUs, 0.99), samples: count });
  });
  for (let i = 0; i < Math.min(inFlight, count); i++) launch();
}

parentPort.on('message', (msg) => {
  switch (msg.type) {
    case 'port':
      port = msg.port;
      if (role === 'echo') port.on('message', (req) => port.postMessage({ n: req.n }));
      parentPort.postMessage({ type: 'ready' });
      return;
    case 'run':
      run(msg.count, msg.inFlight);
      return;
    case 'close':
      port?.close();
      parentPort.close();
      return;
  }
});

// Up: the main thread waits for this before it wires the ports.
parentPort.postMessage({ type: 'up' });
