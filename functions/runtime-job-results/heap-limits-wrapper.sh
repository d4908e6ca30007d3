#!/bin/sh
# Lambda exec wrapper (AWS_LAMBDA_EXEC_WRAPPER). The Node.js runtime's bootstrap starts
#
#   <this script> /var/lang/bin/node --expose-gc ... --max-semi-space-size=<MB> --max-old-space-size=<MB> /var/runtime/index.mjs
#
# and this script runs that command line with one change: V8's semi-space limit becomes
# YOUNG_GENERATION_SEMI_SPACE_MB, which the stack derives from the memory size (lib/heap-limits.ts).
# The bootstrap sizes the young generation by the memory, not by what the handler keeps alive;
# NODE_OPTIONS cannot change it, because the bootstrap's own flag comes later and wins.
# Why the value: docs/performance.md, "The young generation's size".
#
# Anything unexpected leaves the bootstrap's command line as it is: no variable, a value that is
# not a whole number of MB (reported on stderr), or a command line without the flag.

semi_space_mb=${YOUNG_GENERATION_SEMI_SPACE_MB:-}
case $semi_space_mb in
  '')
    exec "$@"
    ;;
  *[!0-9]* | 0*)
    echo "heap-limits-wrapper: YOUNG_GENERATION_SEMI_SPACE_MB='$semi_space_mb' is not a whole number of MB above 0; the runtime's heap limits stand" >&2
    exec "$@"
    ;;
esac

# Rebuilds the arguments in order: each one is taken off the front and put back at the end,
# rewritten if it is the semi-space flag.
for arg do
  shift
  case $arg in
    --max-semi-space-size=*) set -- "$@" "--max-semi-space-size=$semi_space_mb" ;;
    *) set -- "$@" "$arg" ;;
  esac
done
exec "$@"
