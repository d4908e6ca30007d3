/**
 * CPU time from /proc, to see where a run's time goes: the consumer (its own figure comes
 * from the child), this process (the REST server, the DynamoDB proxy and the Game Master
 * stub all live here), DynamoDB Local, redis-server, and the machine as a whole (the rest
 * is other people's work on a shared machine). Linux only; elsewhere every figure is NaN.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const clockTicksPerSecond = ((): number => {
  const answer = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout);
  return Number.isFinite(answer) && answer > 0 ? answer : 100;
})();

const ticksToMs = (ticks: number): number => (ticks * 1_000) / clockTicksPerSecond;

/** pgrp, utime and stime of one /proc/<pid>/stat line (the command name may hold spaces). */
const parseStat = (line: string): { pgrp: number; ticks: number } | undefined => {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(pgrp) && Number.isFinite(ticks) ? { pgrp, ticks } : undefined;
};

/** CPU ms used so far by the live processes of process group `pgid`. */
export const processGroupCpuMs = (pgid: number): number => {
  let ticks = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return Number.NaN;
  }
  for (const pid of entries) {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (stat?.pgrp === pgid) ticks += stat.ticks;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return ticksToMs(ticks);
};

/** CPU ms the whole machine has been busy (all cores, idle and iowait excluded). */
export const machineBusyCpuMs = (): number => {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ticksToMs((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0));
  } catch {
    return Number.NaN;
  }
};

/** This process's CPU ms (user + system). */
export const ownCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1_000;
};

/** CPU ms used so far by process `pid` (all its threads); NaN when it cannot be read. */
export const processCpuMs = (pid: number): number => {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat === undefined ? Number.NaN : ticksToMs(stat.ticks);
  } catch {
    return Number.NaN;
  }
};

/** CPU ms used so far by process `pid` (all its threads), and its peak resident set in KiB. */
export const processUsage = (pid: number): { cpuMs: number; maxRssKb: number } => {
  let hwm: string | undefined;
  try {
    hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    hwm = undefined;
  }
  return { cpuMs: processCpuMs(pid), maxRssKb: Number(hwm ?? Number.NaN) };
};
