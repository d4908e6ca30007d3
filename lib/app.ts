import { Tags } from 'aws-cdk-lib';
import type { App } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ConfigError } from './context-reader.js';
import { StartFlowConsumerPropError } from './errors.js';
import { contextKeyOf, readConfig } from './stage-config.js';
import type { StartFlowConfig } from './stage-config.js';
import { StartFlowStack } from './start-flow-stack.js';

/** Options of {@link addStartFlowStack}. */
export interface AddStartFlowStackOptions {
  /**
   * Pre-built function code instead of bundling the handler (tests).
   *
   * @default - the handler is bundled from source with local esbuild
   */
  readonly functionCode?: lambda.Code;
  /**
   * Environment consulted for `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION` fallbacks.
   *
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Folder of the stage files.
   *
   * @default - `stages/` at the repository's root
   */
  readonly stagesDir?: string;
}

/** Name of the stack of a stage. */
function stackName(stage: string): string {
  return `GalaxyStartFlow-${stage}`;
}

/**
 * Adds the start-flow stack for the stage selected by the app's context. Shared by
 * `bin/app.ts` and the tests, so both synthesize the same thing. A prop the construct refuses
 * is reported as the context key that set it.
 */
export function addStartFlowStack(
  app: App,
  options: AddStartFlowStackOptions = {},
): { readonly stack: StartFlowStack; readonly config: StartFlowConfig } {
  const config = readConfig(app.node, options.env, ...(options.stagesDir === undefined ? [] : [options.stagesDir]));
  let stack: StartFlowStack;
  try {
    stack = new StartFlowStack(app, stackName(config.stage), {
      config,
      // Explicit (possibly undefined) account and region: nothing in the stack needs a lookup,
      // so synth works without credentials.
      env: { account: config.account, region: config.region },
      description: `Galaxy start-flow consumer (${config.stage}): applies Runtime Manager job results to Lobby games`,
      ...(options.functionCode === undefined ? {} : { functionCode: options.functionCode }),
    });
  } catch (error) {
    const key = error instanceof StartFlowConsumerPropError ? contextKeyOf(error.prop) : undefined;
    if (key === undefined || !(error instanceof StartFlowConsumerPropError)) throw error;
    throw new ConfigError(key, `${error.problem} (the construct's ${error.prop})`);
  }
  Tags.of(stack).add('project', 'galaxy');
  Tags.of(stack).add('component', 'start-flow-consumer');
  Tags.of(stack).add('stage', config.stage);
  return { stack, config };
}
