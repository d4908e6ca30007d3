/**
 * The package's entry point: `import { StartFlowConsumer } from 'galaxy-start-flow-consumer'`.
 * Only the construct, its props and its error: the parts under it are the construct's own.
 */
export type { ConsumerMode, LogLevel, StreamNames } from '../functions/runtime-job-results/environment.js';
export type { ConsumerAlarms } from './constructs/consumer-monitoring.js';
export { StartFlowConsumerPropError } from './errors.js';
export type {
  AlarmThresholdProps,
  GameMasterProps,
  StartFlowConsumerProps,
  TuningProps,
  UpstashProps,
} from './props.js';
export { StartFlowConsumer } from './start-flow-consumer.js';
