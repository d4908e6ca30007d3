import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';
import { pingRedis, startRedisServer } from '../../local/redis-server.js';
import { startLocalStack } from '../../local/stack.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Pids of the processes of group `pgid` that are still alive. Zombies do not count: on a
 * machine whose init never reaps orphans, a child whose parent was SIGKILLed stays a zombie
 * forever, holding neither memory nor ports.
 */
function livingMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …", and comm may itself contain spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') {
        members.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}

/** Children of this test process that are managed wrappers (a leak if any survive a stop). */
function managedChildren(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === process.pid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

type ScriptProcess = ChildProcessByStdio<null, Readable, Readable>;

/** Runs TypeScript in a separate node process that prints one JSON line once it is ready. */
async function runScript(body: string): Promise<{ child: ScriptProcess; ready: { groups: number[] } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const ready = await new Promise<{ groups: number[] }>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line !== undefined) {
        resolve(JSON.parse(line) as { groups: number[] });
      }
    });
    child.once('exit', (code) => reject(new Error(`script exited with ${String(code)} before ready:\n${output}`)));
  });
  return { child, ready };
}

async function exitCode(child: ScriptProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return child.exitCode;
  }
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const STACK_SCRIPT = `
  import { startLocalStack } from ${JSON.stringify(`${repoRoot}local/stack.ts`)};
  const stack = await startLocalStack();
  console.log(JSON.stringify({ groups: [stack.redis.pid, stack.dynamodb.pid] }));
  setInterval(() => undefined, 1_000);
`;

describe('local stack lifecycle', () => {
  it('stop() leaves no child process behind', async () => {
    const stack = await startLocalStack();
    const groups = [stack.redis.pid, stack.dynamodb.pid];
    expect(groups.every((pgid) => livingMembers(pgid).length >= 2)).toBe(true);
    expect(await pingRedis(stack.redis.host, stack.redis.port, stack.redis.password)).toBe(true);
    await stack.stop();
    for (const pgid of groups) {
      // No member at all, not even a zombie: everything was reaped by its own parent.
      expect(() => process.kill(-pgid, 0)).toThrow(/ESRCH/);
    }
    expect(await pingRedis(stack.redis.host, stack.redis.port, stack.redis.password)).toBe(false);
    await expect(fetch(stack.gameMaster.baseUrl)).rejects.toThrow();
    await expect(fetch(stack.upstash.url, { method: 'POST' })).rejects.toThrow();
    await stack.stop();
  });

  it('names the part that failed to start and stops the others', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await expect(startLocalStack({ gameMaster: { port } })).rejects.toThrow(
        /local stack: Game Master stub failed to start: .*EADDRINUSE/,
      );
      expect(managedChildren()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('takes its children along when the parent is SIGKILLed', async () => {
    const { child, ready } = await runScript(STACK_SCRIPT);
    expect(ready.groups.every((pgid) => livingMembers(pgid).length > 0)).toBe(true);
    child.kill('SIGKILL');
    await exitCode(child);
    await expect.poll(() => ready.groups.flatMap(livingMembers), { timeout: 10_000 }).toEqual([]);
  });

  it('stops everything on SIGTERM and exits 143', async () => {
    const { child, ready } = await runScript(STACK_SCRIPT);
    child.kill('SIGTERM');
    expect(await exitCode(child)).toBe(143);
    expect(ready.groups.flatMap(livingMembers)).toEqual([]);
  });

  it('kills its children when the parent dies of an uncaught exception', async () => {
    const { child, ready } = await runScript(`
      import { startRedisServer } from ${JSON.stringify(`${repoRoot}local/redis-server.ts`)};
      const redis = await startRedisServer();
      console.log(JSON.stringify({ groups: [redis.pid] }));
      setTimeout(() => { throw new Error('deliberate crash'); }, 100);
    `);
    expect(await exitCode(child)).toBe(1);
    await expect.poll(() => ready.groups.flatMap(livingMembers), { timeout: 5_000 }).toEqual([]);
  });
});

describe('starting the children', () => {
  it('starts and stops a redis-server on a free port', async () => {
    const redis = await startRedisServer();
    expect(redis.host).toBe('127.0.0.1');
    expect(await pingRedis(redis.host, redis.port, redis.password)).toBe(true);
    await redis.stop();
    expect(() => process.kill(-redis.pid, 0)).toThrow(/ESRCH/);
  });

  it('explains which Debian package is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedisServer()).rejects.toThrow(
        'redis-server not found on PATH: install the Debian package "redis-server" (apt-get install redis-server)',
      );
      await expect(startDynamoDbLocal()).rejects.toThrow(
        'java not found on PATH: install the Debian package "openjdk-17-jre-headless"',
      );
    } finally {
      process.env.PATH = path;
    }
  });
});
