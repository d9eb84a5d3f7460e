/**
 * @starling/demo: the scripted fault scenario (`pnpm demo`), the load generator (`pnpm demo
 * load`) and the HTTP API with its dashboard (`pnpm demo serve`), as functions too, so that tests
 * and users' own scripts run them and read their reports.
 */
export { DEFAULT_SCENARIO, runScenario, type ScenarioOptions, scenarioSteps } from './scenario.ts';
export { DEFAULT_LOAD_MS, type LoadOptions, pluginsOf, randomSchedule, runLoadCommand, workloadOf } from './load.ts';
export { type Check, isWorkload, type Operation, type Workload, type WorkloadEnv, type WorkloadRun } from './load/workload.ts';
export { DEFAULT_ZIPF_THETA, type KeyChooser, type KeyDistribution, keyChooser } from './load/keys.ts';
export { kvWorkload, type KvWorkloadOptions, MAX_VALUE_BYTES, type Mix, validateMix } from './load/kv-workload.ts';
export { classify, type DriveOptions, type KindStats, LoadDriver, type Phase } from './load/driver.ts';
export { Latency, type LatencySummary } from './load/latency.ts';
export { type ClusterShape, type DemoClusterOptions, MAX_DEMO_NODES, startDemoCluster } from './run/cluster.ts';
export { type ClusterCounters, CounterSampler } from './run/counters.ts';
export { Progress, type ProgressSink } from './run/progress.ts';
export { formatReport, type KindFigures, type OpCounts, type PhaseFigures, type Report } from './run/report.ts';
export { MAX_LOAD_MS, MAX_LOAD_OPS, runLoad, type RunOptions, type Step, type WorkloadSetup } from './run/run.ts';
export { type ApiErrorCode, ApiError } from './serve/api-error.ts';
export { CONTEXT_HEADER, decodeContext, encodeContext } from './serve/context-header.ts';
export { DEFAULT_PORT, SERVE_HOST, serveCluster, type ServeClusterOptions, type ServeHandle, type ServeOptions, startServe } from './serve/server.ts';
export type { ClusterSnapshot, LinkRow, LogLine, MemberCell, NodeRow, RatePoint, RepairCounts, RingView, StreamHello } from './serve/snapshot.ts';
