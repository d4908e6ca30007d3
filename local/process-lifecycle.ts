import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PortInUseError } from './free-port.js';
import { waitUntil } from './wait.js';

/**
 * Finds `name` on PATH the way a shell would.
 *
 * We look before spawning because the watchdog wrapper below would otherwise turn a
 * missing binary into an opaque "exit 127" from `sh`.
 */
function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') {
      continue;
    }
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // Not in this directory (or not executable): keep looking.
    }
  }
  return undefined;
}

/**
 * Like {@link findExecutable}, but throws an error telling the developer which Debian
 * package provides the binary, since that is the fix on every machine of this project.
 */
export function requireExecutable(name: string, debianPackage: string): string {
  const path = findExecutable(name);
  if (path === undefined) {
    throw new Error(
      `${name} not found on PATH: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})`,
    );
  }
  return path;
}

/** How a managed child ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started by {@link spawnManaged}. */
export interface ManagedProcess {
  /** Human name used in error messages ("redis-server", "DynamoDB Local"). */
  readonly name: string;
  /**
   * Pid of the wrapper shell, which is also the id of the process group holding it, the
   * program and the watchdog reader: `process.kill(-pid, 0)` failing means all of them are gone.
   */
  readonly pid: number;
  /** Settles (never rejects) once the program and its wrapper have exited. */
  readonly exited: Promise<ExitInfo>;
  /** How the program ended, or undefined while it runs. */
  exitInfo(): ExitInfo | undefined;
  /** The last few KiB of the program's stdout and stderr, for error messages. */
  output(): string;
  /**
   * Stops the program (SIGTERM via the watchdog, SIGKILL after `timeoutMs`) and resolves once
   * it and its watchdog are gone. Safe to call more than once.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** Options of {@link spawnManaged}. */
export interface SpawnManagedOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
}

/**
 * The wrapper every managed child runs under, so that it dies with us even when we are
 * SIGKILLed (no `exit` handler runs then, and Linux offers no portable "die with parent" for
 * a program we do not control).
 *
 * Our end of the wrapper's stdin pipe is the lifeline: the kernel closes it whenever this Node
 * process ends, however it ends. The shell keeps that pipe as fd 3, starts the program in the
 * background, and starts a reader that blocks on fd 3. When the read returns — EOF because we
 * died, or because `stop()` closed the pipe — the reader sends the program SIGTERM. The shell
 * waits for the program, reaps the reader and exits with the program's status.
 *
 * Every process here is reaped by its own parent (program and reader by the shell, the shell
 * by Node), so a normal stop leaves not even a zombie behind; that matters on machines whose
 * init does not reap orphans. All three share one process group (the shell's pid, since we
 * spawn it `detached`), so signalling the group reaches everything at once.
 */
const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'pid=$!',
  '{ read -r _ <&3; kill -TERM "$pid" 2>/dev/null; } </dev/null >/dev/null 2>&1 &',
  'reader=$!',
  'wait "$pid"',
  'status=$?',
  'kill "$reader" 2>/dev/null',
  'wait "$reader" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** How much of a child's output is kept for error messages. */
const OUTPUT_TAIL_BYTES = 16 * 1024;

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** Process groups of managed children still alive; killed synchronously when Node exits. */
const liveGroups = new Set<number>();

/**
 * Sends `signal` to a whole process group: the program and its watchdog.
 * Returns false when the group no longer exists.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

let exitHookInstalled = false;

/**
 * On any exit Node still controls — `process.exit()`, the event loop draining, an uncaught
 * exception or unhandled rejection (Node emits `exit` for those too) — kill what is left at
 * once. Only synchronous work is possible here, hence SIGKILL instead of a graceful stop.
 */
function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      signalGroup(pgid, 'SIGKILL');
    }
    liveGroups.clear();
  });
}

/**
 * Starts `command` in its own process group behind the watchdog wrapper (see above) and
 * keeps a tail of its output.
 *
 * The child gets its own session (`detached`), so a Ctrl-C in the terminal reaches only us and
 * we decide the order of shutdown; the watchdog and the exit hook make sure it still dies
 * with us.
 */
export function spawnManaged(options: SpawnManagedOptions): ManagedProcess {
  installExitHook();
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, options.name, options.command, ...options.args], {
    cwd: options.cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn() reports the reason asynchronously through 'error'; with `sh` missing there is no pid.
    child.on('error', () => undefined);
    throw new Error(`could not start ${options.name}: failed to spawn sh`);
  }
  liveGroups.add(pid);

  let tail = '';
  const keepTail = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);
  // Writing to the lifeline after the watchdog is gone raises EPIPE; nothing to do about it.
  child.stdin.on('error', () => undefined);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      // The wrapper normally exits only after reaping the program and the reader. If the
      // wrapper itself was killed from outside they may live on: sweep the group. Its id
      // cannot be reused while any member is alive, so this never hits an unrelated process.
      signalGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      tail += `\n${error.message}`;
    });
  });

  const stop = async (timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> => {
    if (exitInfo === undefined) {
      // Closing the lifeline makes the watchdog send SIGTERM: the same path as our own death.
      child.stdin.end();
      // Unref'd: a stop that finished early must not keep the event loop alive until the timeout.
      const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs, true, { ref: false })]);
      if (timedOut) {
        signalGroup(pid, 'SIGKILL');
      }
      await exited;
    }
    // Wait until the group is empty so callers can rely on "stopped" meaning "no process left".
    for (let i = 0; i < 100 && signalGroup(pid, 0); i += 1) {
      signalGroup(pid, 'SIGKILL');
      await sleep(10);
    }
  };

  return {
    name: options.name,
    pid,
    exited,
    exitInfo: () => exitInfo,
    output: () => tail,
    stop,
  };
}

/** Options of {@link waitForStartup}. */
export interface StartupWait {
  /** The port the child was told to bind, for the "address in use" diagnosis. */
  port: number;
  /** What is awaited, for the timeout message. */
  description: string;
  timeoutMs: number;
  /** Resolves to true once the child serves requests. */
  isReady: () => Promise<boolean>;
}

/**
 * Waits until a freshly spawned child is ready; on failure stops it and throws.
 *
 * A child that dies while we wait fails the wait at once (with its output in the message)
 * instead of letting it run into the timeout; one that died because its port was taken
 * meanwhile yields a {@link PortInUseError} so that `withFreePort` tries another port.
 */
export async function waitForStartup(managed: ManagedProcess, wait: StartupWait): Promise<void> {
  try {
    await waitUntil(wait.isReady, {
      description: wait.description,
      timeoutMs: wait.timeoutMs,
      abortIf: () => startupFailure(managed, wait.port),
    });
  } catch (error) {
    await managed.stop();
    throw error;
  }
}

function startupFailure(managed: ManagedProcess, port: number): Error | undefined {
  const exit = managed.exitInfo();
  if (exit === undefined) {
    return undefined;
  }
  const output = managed.output().trim();
  if (/address already in use/i.test(output)) {
    return new PortInUseError(`${managed.name} could not bind port ${port}: address already in use`);
  }
  const how = exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
  return new Error(`${managed.name} exited during startup with ${how}${output ? `:\n${output}` : ''}`);
}

/** A cleanup run when the process receives SIGINT, SIGTERM or SIGHUP. */
export type ShutdownHook = () => Promise<void>;

const shutdownHooks = new Set<ShutdownHook>();

/** Exit status a shell reports for a process killed by the signal: 128 + signal number. */
const SIGNAL_EXIT_CODES: Readonly<Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

let shuttingDown = false;

function onSignal(signal: keyof typeof SIGNAL_EXIT_CODES): void {
  const code = SIGNAL_EXIT_CODES[signal];
  if (shuttingDown) {
    // A second Ctrl-C means "now": the exit hook SIGKILLs whatever is still running.
    process.exit(code);
  }
  shuttingDown = true;
  const hooks = [...shutdownHooks];
  void Promise.allSettled(hooks.map(async (hook) => hook())).finally(() => process.exit(code));
}

const signalListeners = {
  SIGHUP: () => onSignal('SIGHUP'),
  SIGINT: () => onSignal('SIGINT'),
  SIGTERM: () => onSignal('SIGTERM'),
} as const;

/**
 * Registers `hook` to run on SIGINT/SIGTERM/SIGHUP, after which the process exits with
 * 130/143/129. Returns a function that unregisters it.
 *
 * The signal listeners exist only while at least one hook is registered, because a listener
 * replaces Node's default "die on signal": once everything is stopped the host process gets
 * its normal signal behaviour back.
 */
export function onShutdownSignal(hook: ShutdownHook): () => void {
  if (shutdownHooks.size === 0) {
    for (const [signal, listener] of Object.entries(signalListeners)) {
      process.on(signal, listener);
    }
  }
  shutdownHooks.add(hook);
  return () => {
    if (!shutdownHooks.delete(hook) || shutdownHooks.size > 0) {
      return;
    }
    for (const [signal, listener] of Object.entries(signalListeners)) {
      process.off(signal, listener);
    }
  };
}
