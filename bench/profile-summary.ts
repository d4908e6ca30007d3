/**
 * Where the consumer's CPU goes: a V8 CPU profile of the drain child (`--cpu-prof`), its
 * minified frames mapped back through the bundle's source map, self time summed by the
 * package or part of the consumer the code comes from.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import type { SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileShare {
  readonly name: string;
  readonly ms: number;
  /** Of all samples, idle included. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time by where the code comes from, largest first. */
  readonly byOrigin: readonly ProfileShare[];
  /** The functions with the most self time, with their original source location. */
  readonly topFunctions: readonly ProfileShare[];
}

/** Groups an original source path (or a V8 pseudo-frame) into a reader-sized bucket. */
const originOf = (source: string | undefined, functionName: string): string => {
  if (source === undefined) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
    return 'Node.js internals';
  }
  if (source.startsWith('node:')) return 'Node.js internals';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (packageMatch) {
    const name = packageMatch[1] as string;
    if (name.startsWith('@smithy/') || name.startsWith('@aws-sdk/') || name.startsWith('@aws-crypto/'))
      return 'AWS SDK (@aws-sdk, @smithy)';
    return name;
  }
  const own = /(functions\/runtime-job-results\/[^/]+)/.exec(source);
  if (own) return own[1] as string;
  return source.replace(/^(\.\.\/)+/, '');
};

/** Reads a `.cpuprofile` written by the bundled drain child and attributes its samples. */
export const summariseProfile = (profilePath: string, topCount = 12): ProfileSummary => {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  profile.samples.forEach((nodeId, index) => {
    selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const maps = new Map<string, SourceMap | undefined>();
  const mapFor = (url: string): SourceMap | undefined => {
    if (!maps.has(url)) {
      let map: SourceMap | undefined;
      try {
        const path = fileURLToPath(url);
        map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')) as SourceMapPayload);
      } catch {
        map = undefined;
      }
      maps.set(url, map);
    }
    return maps.get(url);
  };

  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    let source: string | undefined = url === '' ? undefined : url;
    let location = url;
    if (url.startsWith('file:')) {
      const entry = mapFor(url)?.findEntry(lineNumber, columnNumber);
      if (entry !== undefined && 'originalSource' in entry) {
        source = entry.originalSource;
        location = `${entry.originalSource.replace(/^.*node_modules\//, '').replace(/^(\.\.\/)+/, '')}:${entry.originalLine + 1}`;
      }
    }
    const origin = originOf(source, functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${location}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const shares = (entries: Map<string, number>): ProfileShare[] =>
    [...entries]
      .map(([name, us]) => ({ name, ms: us / 1_000, percent: totalUs === 0 ? 0 : (100 * us) / totalUs }))
      .sort((a, b) => b.ms - a.ms);
  return { totalMs: totalUs / 1_000, byOrigin: shares(byOrigin), topFunctions: shares(byFunction).slice(0, topCount) };
};
