/** Metric names and dimensions (docs/contract.md §7.2); the CDK dashboard and alarms use the same ones. */
export const MetricName = {
  startFlowOutcomes: 'lobby.start_flow.outcomes',
  gameTransitions: 'lobby.game.transitions',
  entries: 'lobby.start_flow.entries',
  deadLetters: 'lobby.start_flow.dead_letters',
  transientErrors: 'lobby.start_flow.transient_errors',
  consumerLagAge: 'lobby.start_flow.consumer_lag_age',
  consumerLagEntries: 'lobby.start_flow.consumer_lag_entries',
  offsetAhead: 'lobby.start_flow.offset_ahead_of_stream',
  publishAbandoned: 'lobby.start_flow.publish_abandoned',
  entriesTrimmed: 'lobby.start_flow.entries_trimmed',
} as const;

/** The outcome of one start flow, as the Go worker counted it. */
export const StartFlowOutcome = {
  running: 'running',
  paused: 'paused',
  startFailed: 'start_failed',
} as const;

export type StartFlowOutcome = (typeof StartFlowOutcome)[keyof typeof StartFlowOutcome];
