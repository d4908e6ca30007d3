/**
 * Lambda's CPU share for the drain child: a CPU cgroup whose quota is the vCPUs a function of
 * the given memory size gets (one vCPU at 1,769 MB, in proportion below and above). Uses the
 * cgroup v1 `cpu` controller (`cpu.cfs_quota_us` / `cpu.cfs_period_us`) or cgroup v2
 * `cpu.max`, whichever is mounted and writable; needs root. Where neither is, says why, and
 * the caller runs without a quota.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lambda's memory size that buys exactly one vCPU (AWS Lambda docs, "Memory and computing power"). */
export const FULL_VCPU_MEMORY_MB = 1_769;

/** The CFS period: Linux's default. Lambda does not publish its own; the share is what matters. */
const PERIOD_US = 100_000;

/** vCPUs Lambda gives a function of `memoryMb`. */
export const lambdaVcpus = (memoryMb: number): number => memoryMb / FULL_VCPU_MEMORY_MB;

export interface CpuQuota {
  /** `cgroup v1` or `cgroup v2`, and where. */
  readonly description: string;
  readonly vcpus: number;
  /** Moves a process (all its threads) into the cgroup. */
  add(pid: number): void;
  /** Periods in which the cgroup ran out of quota, and the time it was held back (ms). */
  throttling(): { readonly periods: number; readonly throttledPeriods: number; readonly throttledMs: number };
  /** Moves whatever is left back to the root cgroup and removes this one. */
  remove(): void;
}

export type CpuQuotaResult =
  | { readonly quota: CpuQuota; readonly unavailable?: undefined }
  | { readonly quota?: undefined; readonly unavailable: string };

interface Mount {
  readonly path: string;
  readonly type: string;
  readonly options: readonly string[];
}

const mounts = (): Mount[] => {
  try {
    return readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields.length >= 4)
      .map(([, path, type, options]) => ({
        path: path as string,
        type: type as string,
        options: (options as string).split(','),
      }));
  } catch {
    return [];
  }
};

const statOf = (text: string): Map<string, number> =>
  new Map(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([key, value]) => [key ?? '', Number(value)] as const),
  );

const pidsIn = (procsFile: string): string[] => {
  try {
    return readFileSync(procsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const createIn = (
  root: string,
  vcpus: number,
  configure: (dir: string, quotaUs: number) => void,
  version: 'v1' | 'v2',
): CpuQuota => {
  const dir = join(root, `start-flow-bench-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir);
  const quotaUs = Math.max(1_000, Math.round(vcpus * PERIOD_US));
  try {
    configure(dir, quotaUs);
  } catch (error) {
    rmdirSync(dir);
    throw error;
  }
  return {
    description: `cgroup ${version} ${dir}, quota ${quotaUs} µs per ${PERIOD_US} µs`,
    vcpus,
    add: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
    throttling: () => {
      const stat = statOf(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
      return {
        periods: stat.get('nr_periods') ?? 0,
        throttledPeriods: stat.get('nr_throttled') ?? 0,
        // v1 reports nanoseconds, v2 microseconds.
        throttledMs:
          version === 'v1' ? (stat.get('throttled_time') ?? 0) / 1e6 : (stat.get('throttled_usec') ?? 0) / 1e3,
      };
    },
    remove: () => {
      for (const pid of pidsIn(join(dir, 'cgroup.procs'))) {
        try {
          writeFileSync(join(root, 'cgroup.procs'), pid);
        } catch {
          // Exited in the meantime.
        }
      }
      rmdirSync(dir);
    },
  };
};

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A cgroup limited to `vcpus`, or why none could be made on this machine. */
export const createCpuQuota = (vcpus: number): CpuQuotaResult => {
  const all = mounts();
  const problems: string[] = [];
  const v1 = all.find((mount) => mount.type === 'cgroup' && mount.options.includes('cpu'));
  if (v1 !== undefined) {
    try {
      return {
        quota: createIn(
          v1.path,
          vcpus,
          (dir, quotaUs) => {
            writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
            writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
          },
          'v1',
        ),
      };
    } catch (error) {
      problems.push(`cgroup v1 cpu at ${v1.path}: ${reasonOf(error)}`);
    }
  }
  const v2 = all.find((mount) => mount.type === 'cgroup2');
  if (v2 !== undefined) {
    try {
      const controllers = readFileSync(join(v2.path, 'cgroup.controllers'), 'utf8').split(/\s+/);
      if (!controllers.includes('cpu')) throw new Error('the cpu controller is not available here');
      writeFileSync(join(v2.path, 'cgroup.subtree_control'), '+cpu');
      return {
        quota: createIn(
          v2.path,
          vcpus,
          (dir, quotaUs) => {
            if (!existsSync(join(dir, 'cpu.max'))) throw new Error('no cpu.max in a new cgroup');
            writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
          },
          'v2',
        ),
      };
    } catch (error) {
      problems.push(`cgroup v2 at ${v2.path}: ${reasonOf(error)}`);
    }
  }
  if (v1 === undefined && v2 === undefined) problems.push('no cgroup file system is mounted');
  return { unavailable: problems.join('; ') };
};
