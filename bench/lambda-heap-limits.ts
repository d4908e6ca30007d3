/**
 * The V8 heap limits Lambda's Node.js bootstrap starts a function with, for a memory size:
 * the bench starts its drain child with them, so the peak RSS it reports is the deployed
 * function's and not that of a process sized for the whole machine.
 */

/** A tenth of the memory for the new space (half of it per semi-space), the rest for the old space. */
const bootstrapHeapLimits = (memoryMb: number): { readonly semiSpaceMb: number; readonly oldSpaceMb: number } => {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return { semiSpaceMb: Math.floor(newSpaceMb / 2), oldSpaceMb: memoryMb - newSpaceMb };
};

/** The arguments the bootstrap gives `node` for those limits. */
export const lambdaBootstrapHeapArgs = (memoryMb: number): string[] => {
  const { semiSpaceMb, oldSpaceMb } = bootstrapHeapLimits(memoryMb);
  return [`--max-semi-space-size=${semiSpaceMb}`, `--max-old-space-size=${oldSpaceMb}`];
};

/** One line for the report: the limits a run's child had. */
export const describeHeapLimits = (memoryMb: number): string => {
  const { semiSpaceMb, oldSpaceMb } = bootstrapHeapLimits(memoryMb);
  return `heap limits of ${memoryMb} MB as Lambda's bootstrap sets them: semi-space ${semiSpaceMb} MB, old space ${oldSpaceMb} MB`;
};
