#!/usr/bin/env node
/**
 * CDK app entry point (`cdk.json` runs it with tsx). It only builds the app: the CDK CLI
 * synthesizes it. One stack per stage around `StartFlowConsumer`, configured by context over
 * `stages/<stage>.json`; see docs/deployment.md.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { addStartFlowStack } from '../lib/app.js';

const app = new App();
addStartFlowStack(app);

// cdk-nag 3 packs are policy-validation plugins: they run after synthesis, and an unacknowledged
// error fails `cdk synth`/`cdk deploy`. Acknowledgements sit on the resources they concern.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
