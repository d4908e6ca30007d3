/** The error the construct throws for a prop it cannot deploy, naming the prop. */
export class StartFlowConsumerPropError extends Error {
  /** The prop, as a path from the props object (`timeout`, `gameMaster.baseUrl`, `tuning.batchSize`). */
  readonly prop: string;
  /** What is wrong with it, without the prop's name. */
  readonly problem: string;

  constructor(prop: string, problem: string) {
    super(`StartFlowConsumer: invalid prop "${prop}": ${problem}`);
    this.name = 'StartFlowConsumerPropError';
    this.prop = prop;
    this.problem = problem;
  }
}
