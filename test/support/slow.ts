/**
 * `SKIP_SLOW=1 npx vitest run` skips the tests that take ten seconds or more each: the crash
 * soak, the crash variants that SIGKILL a handler process and wait for its lease to lapse,
 * the runs that wait out a dependency that never answers, and the packed-package test.
 * They are slow because they wait for real time to pass (lease expiries, invocation
 * deadlines, request timeouts) or pack and install the package, so they cannot be made fast
 * without testing something else. `npm test` and CI never set it: there every test runs.
 */
export const skipSlow = process.env.SKIP_SLOW === '1';
