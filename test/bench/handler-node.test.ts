/** Which Node.js runs the handler in a benchmark, and the report line that flags the wrong major. */
import { describe, expect, it } from 'vitest';
import { describeHandlerNode, handlerNode, runtimeMajor } from '../../bench/handler-node.js';
import { FUNCTION_RUNTIME } from '../../lib/constructs/consumer-function.js';

describe('handlerNode', () => {
  it("reads the version of the bench's own Node.js by default", () => {
    const node = handlerNode();
    expect(node.version).toBe(process.version);
    expect(node.major).toBe(Number(process.versions.node.split('.')[0]));
    expect(node.runtime).toBe(FUNCTION_RUNTIME.name);
    expect(node.runtimeMajor).toBe(runtimeMajor());
  });

  it('names a path that does not run', () => {
    expect(() => handlerNode('/nonexistent/node')).toThrow(/\/nonexistent\/node: cannot run it as Node.js/);
  });

  it('names a binary that is not Node.js', () => {
    // A program that runs and prints a version of its own, not Node.js's.
    expect(() => handlerNode('/bin/echo')).toThrow(/^\/bin\/echo: printed ".+", not a Node\.js version$/s);
  });
});

describe('describeHandlerNode', () => {
  const node = { path: '/x/node', runtime: 'nodejs24.x', runtimeMajor: 24 };

  it("says so when the handler ran on the runtime's major", () => {
    expect(describeHandlerNode({ ...node, version: 'v24.22.3', major: 24 })).toBe(
      "handler's Node.js: v24.22.3, the function runtime's major (nodejs24.x)",
    );
  });

  it('flags another major and says how to get the deployed figures', () => {
    expect(describeHandlerNode({ ...node, version: 'v20.20.2', major: 20 })).toMatch(
      /v20\.20\.2, NOT the function runtime's major \(nodejs24\.x\): pass --node <a Node\.js 24 binary>/,
    );
  });
});
