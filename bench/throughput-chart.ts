/**
 * The throughput chart written next to results.json: entries done vs. time since the drain
 * started, one line per mode. Plain SVG, so it renders anywhere (a browser, GitHub, a PR).
 */
import type { Timeline } from './figures.js';

export interface ChartSeries {
  readonly label: string;
  readonly timeline: Timeline;
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 24, bottom: 52, left: 72 };
const COLOURS = ['#d9480f', '#1c7ed6', '#2b8a3e', '#862e9c'];

/** A round step giving about `count` ticks over `max`. */
const tickStep = (max: number, count = 6): number => {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
};

export const ticks = (max: number): number[] => {
  const step = tickStep(max);
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => round3(i * step));
};

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;

export const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Renders the series on shared axes; `title` goes on top. */
export const throughputSvg = (title: string, series: readonly ChartSeries[]): string => {
  const maxSeconds = Math.max(1, ...series.flatMap((s) => s.timeline.map(([seconds]) => seconds)));
  const maxEntries = Math.max(1, ...series.flatMap((s) => s.timeline.map(([, entries]) => entries)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (seconds: number): number => MARGIN.left + (seconds / maxSeconds) * plotWidth;
  const y = (entries: number): number => MARGIN.top + plotHeight - (entries / maxEntries) * plotHeight;
  const fixed = (value: number): string => value.toFixed(1);

  const xTicks = ticks(maxSeconds).map(
    (t) =>
      `<line x1="${fixed(x(t))}" y1="${MARGIN.top}" x2="${fixed(x(t))}" y2="${MARGIN.top + plotHeight}" stroke="#e9ecef"/>` +
      `<text x="${fixed(x(t))}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${t}</text>`,
  );
  const yTicks = ticks(maxEntries).map(
    (t) =>
      `<line x1="${MARGIN.left}" y1="${fixed(y(t))}" x2="${MARGIN.left + plotWidth}" y2="${fixed(y(t))}" stroke="#e9ecef"/>` +
      `<text x="${MARGIN.left - 8}" y="${fixed(y(t) + 4)}" text-anchor="end">${t.toLocaleString('en-US')}</text>`,
  );
  const lines = series.map((s, index) => {
    const colour = COLOURS[index % COLOURS.length] ?? '#000';
    const points = s.timeline.map(([seconds, entries]) => `${fixed(x(seconds))},${fixed(y(entries))}`).join(' ');
    const legendY = MARGIN.top + 16 + index * 20;
    return (
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>` +
      `<line x1="${MARGIN.left + 12}" y1="${legendY - 4}" x2="${MARGIN.left + 36}" y2="${legendY - 4}" stroke="${colour}" stroke-width="3"/>` +
      `<text x="${MARGIN.left + 42}" y="${legendY}">${escapeXml(s.label)}</text>`
    );
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" fill="#212529">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...xTicks,
    ...yTicks,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#868e96"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">seconds since the drain started</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">entries done (offset passed)</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
};
