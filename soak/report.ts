/** The soak's figures as text, for the terminal and for docs/reliability.md. */
import type { SoakReport } from './run-soak.js';

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

const rows = (table: Readonly<Record<string, number>>): string =>
  Object.entries(table)
    .filter(([, count]) => count > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `    ${name.padEnd(40)} ${count}`)
    .join('\n') || '    (none)';

/** The report, one figure a line, then the mismatches. */
export const formatReport = (report: SoakReport): string => {
  const { crash, options } = report;
  const randomKills = Object.values(crash.kills).reduce((sum, count) => sum + count, 0);
  const faults = Object.values(crash.faults).reduce((sum, count) => sum + count, 0);
  const lines = [
    `soak: seed ${options.seed}, ${report.entries} entries, ${Object.values(report.games).reduce((a, b) => a + b, 0)} games`,
    `  games by case:`,
    rows(report.games),
    `  dead letters expected (invalid entries, unknown games): ${report.expectedDeadLetters}`,
    `  quiet run: ${report.reference.invocations} invocations in-process, ${seconds(report.reference.wallMs)}`,
    `  crash run${options.followPollIntervalMs === undefined ? '' : ' (follow mode, kills during hand-overs)'}: ${crash.invocations} child invocations, ${seconds(crash.wallMs)}, ${crash.requests} requests through the proxies`,
    `  kills at random requests: ${randomKills} (${Object.entries(crash.kills)
      .map(([mode, count]) => `${mode} ${count}`)
      .join(', ')}); killed at their deadline: ${crash.endings.killed_at_deadline ?? 0}`,
    ...(options.followPollIntervalMs === undefined
      ? []
      : [`  kills right after an ask: holder ${crash.askKills.holder}, asker ${crash.askKills.asker}`]),
    `  invocation endings:`,
    rows(crash.endings),
    `  failed invocations by error:`,
    rows(crash.failures),
    `  faults injected: ${faults}`,
    rows(crash.faults),
    `  Game Master calls repeated after crashes (same Idempotency-Key): ${report.repeatedGameMasterCalls}`,
    `  duplicates published (consumers deduplicate): stop jobs ${report.duplicates.stopJobs}, intents ${report.duplicates.intents}, dead letters ${report.duplicates.deadLetters}`,
    `  markers left in game items (harmless; a replay of their entry re-sends): intents ${report.markersLeft.intents}`,
    `  mismatches: ${report.mismatches.length}`,
    ...report.mismatches.slice(0, 40).map((m) => `    ${m.check}${m.gameId ? ` ${m.gameId}` : ''}: ${m.detail}`),
    ...(report.mismatches.length > 40 ? [`    … and ${report.mismatches.length - 40} more`] : []),
    `  wall time: ${seconds(report.wallMs)}`,
  ];
  return lines.join('\n');
};
