// Baseline of the threads.node_start_* and threads.cluster_32 times: the least a worker thread needs
// to start and say it is up. (It then exits by itself: nothing keeps it alive.)
import { parentPort } from 'node:worker_threads';

parentPort.postMessage('ready');
