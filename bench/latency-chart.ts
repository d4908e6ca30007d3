/**
 * The latency chart: each entry's wait from its id to its game's status change, against the
 * moment it was added, one panel per mode, with the hand-overs between following
 * invocations marked. Plain SVG, like the throughput chart.
 */
import { escapeXml, ticks } from './throughput-chart.js';

export interface LatencyPanel {
  readonly label: string;
  /** [seconds since the run started, latency ms]. */
  readonly samples: readonly (readonly [number, number])[];
  /** Seconds at which a following invocation handed over to the next. */
  readonly handoversS: readonly number[];
  /** A horizontal reference line (a target), ms. */
  readonly targetMs?: number;
}

const WIDTH = 760;
const PANEL_HEIGHT = 250;
const MARGIN = { top: 44, right: 24, bottom: 40, left: 72 };
const fixed = (value: number): string => value.toFixed(1);

const panelSvg = (panel: LatencyPanel, top: number, maxSeconds: number): string[] => {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxMs = Math.max(panel.targetMs ?? 0, ...panel.samples.map(([, ms]) => ms), 1) * 1.1;
  const x = (s: number): number => MARGIN.left + (s / maxSeconds) * plotWidth;
  const y = (ms: number): number => top + MARGIN.top + plotHeight - (ms / maxMs) * plotHeight;
  const bottom = top + MARGIN.top + plotHeight;
  return [
    `<text x="${MARGIN.left}" y="${top + MARGIN.top - 10}" font-weight="bold">${escapeXml(panel.label)}</text>`,
    ...ticks(maxSeconds).map(
      (t) =>
        `<line x1="${fixed(x(t))}" y1="${top + MARGIN.top}" x2="${fixed(x(t))}" y2="${bottom}" stroke="#e9ecef"/>` +
        `<text x="${fixed(x(t))}" y="${bottom + 16}" text-anchor="middle">${t}</text>`,
    ),
    ...ticks(maxMs).map(
      (t) =>
        `<line x1="${MARGIN.left}" y1="${fixed(y(t))}" x2="${MARGIN.left + plotWidth}" y2="${fixed(y(t))}" stroke="#e9ecef"/>` +
        `<text x="${MARGIN.left - 8}" y="${fixed(y(t) + 4)}" text-anchor="end">${t.toLocaleString('en-US')}</text>`,
    ),
    `<rect x="${MARGIN.left}" y="${top + MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#868e96"/>`,
    `<text transform="translate(18 ${top + MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">ms, entry id → status change</text>`,
    ...panel.handoversS.map(
      (s) =>
        `<line x1="${fixed(x(s))}" y1="${top + MARGIN.top}" x2="${fixed(x(s))}" y2="${bottom}" stroke="#d9480f" stroke-dasharray="4 3"/>`,
    ),
    ...(panel.targetMs === undefined
      ? []
      : [
          `<line x1="${MARGIN.left}" y1="${fixed(y(panel.targetMs))}" x2="${MARGIN.left + plotWidth}" y2="${fixed(y(panel.targetMs))}" stroke="#2b8a3e" stroke-dasharray="6 3"/>`,
        ]),
    ...panel.samples.map(([s, ms]) => `<circle cx="${fixed(x(s))}" cy="${fixed(y(ms))}" r="1.8" fill="#1c7ed6"/>`),
  ];
};

/** Renders the panels one above the other on a shared time axis. */
export const latencySvg = (title: string, panels: readonly LatencyPanel[]): string => {
  const height = 40 + panels.length * PANEL_HEIGHT + 24;
  const maxSeconds = Math.max(1, ...panels.flatMap((p) => [...p.samples.map(([s]) => s), ...p.handoversS]));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" fill="#212529">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...panels.flatMap((panel, index) => panelSvg(panel, 30 + index * PANEL_HEIGHT, maxSeconds)),
    `<text x="${WIDTH / 2}" y="${height - 8}" text-anchor="middle">seconds since the run started (dots: entries; dashed orange: hand-overs; dashed green: the p99 target)</text>`,
    '</svg>',
    '',
  ].join('\n');
};
