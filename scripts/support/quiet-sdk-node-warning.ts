/**
 * Imported first by every command-line entry point (`npm run local`, `ops`, `invoke`, `soak`,
 * the bench): keeps the AWS SDK's Node-version warning off their first screen.
 *
 * The SDK warns once per process, at the first client it builds, that its releases from 2027
 * on need Node 22. On the Node 20 the README supports it reads like an error, and it concerns
 * SDK upgrades, not this run; the Lambda itself runs on nodejs24.x. The tests set the same
 * variable (vitest.config.ts). A value already set in the shell wins.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
