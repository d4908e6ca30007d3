/**
 * V8's heap limits for the function: the ones Lambda's Node.js bootstrap sets for a memory size,
 * and the young-generation limit this project sets instead through an exec wrapper
 * (`functions/runtime-job-results/heap-limits-wrapper.sh`). The stack deploys them and the bench
 * runs its drain child with them, so both read them here.
 *
 * Why (docs/performance.md, "The young generation's size"): the bootstrap gives each semi-space a
 * twentieth of the memory, so a 1,024 MB function lets V8 grow its young generation to
 * 51 MB semi-spaces over a long drain, and the process to ≈ 215 MB, although the handler holds
 * about 25 MB of live data. A 25 MB semi-space measured no more CPU per entry at 1,024 MB and
 * ≈ 50 MB less peak RSS. Smaller sizes keep the bootstrap's value: at 256 MB, doubling its
 * 12 MB semi-space measured no gain in alternating runs, only 25 MB more RSS.
 */
import { fileURLToPath } from 'node:url';

/** The wrapper's source in the repository. */
export const HEAP_LIMITS_WRAPPER_SOURCE = fileURLToPath(
  new URL('../functions/runtime-job-results/heap-limits-wrapper.sh', import.meta.url),
);

/** The wrapper's name in the bundle; Lambda unpacks the bundle in `/var/task`. */
export const HEAP_LIMITS_WRAPPER_FILE = 'heap-limits-wrapper.sh';

/** The variable the wrapper reads: V8's semi-space limit in MB (`--max-semi-space-size`). */
export const SEMI_SPACE_VARIABLE = 'YOUNG_GENERATION_SEMI_SPACE_MB';

/** The largest semi-space the function gets: what the bootstrap gives a 512 MB function. */
const SEMI_SPACE_CAP_MB = 25;

/**
 * The limits Lambda's Node.js bootstrap sets for a memory size: a tenth of it for the new
 * space (half of it per semi-space), the rest for the old space.
 */
export const bootstrapHeapLimits = (
  memoryMb: number,
): { readonly semiSpaceMb: number; readonly oldSpaceMb: number } => {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return { semiSpaceMb: Math.floor(newSpaceMb / 2), oldSpaceMb: memoryMb - newSpaceMb };
};

/** The arguments the bootstrap gives `node` for those limits. */
export const lambdaBootstrapHeapArgs = (memoryMb: number): string[] => {
  const { semiSpaceMb, oldSpaceMb } = bootstrapHeapLimits(memoryMb);
  return [`--max-semi-space-size=${semiSpaceMb}`, `--max-old-space-size=${oldSpaceMb}`];
};

/**
 * The semi-space the wrapper sets for a memory size: the bootstrap's, at most
 * {@link SEMI_SPACE_CAP_MB}. Only sizes above 512 MB change.
 */
export const semiSpaceMb = (memoryMb: number): number =>
  Math.min(SEMI_SPACE_CAP_MB, bootstrapHeapLimits(memoryMb).semiSpaceMb);

/** The function's variables that start `node` through the wrapper with that semi-space. */
export const heapLimitsEnvironment = (memoryMb: number): Record<string, string> => ({
  AWS_LAMBDA_EXEC_WRAPPER: `/var/task/${HEAP_LIMITS_WRAPPER_FILE}`,
  [SEMI_SPACE_VARIABLE]: String(semiSpaceMb(memoryMb)),
});
