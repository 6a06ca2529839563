// The earnings chart's data: `earnings_series` points (Unix ms, cumulative micro-tokens)
// as uPlot columns (seconds, tokens earned since the range began), axis labels, and a
// one-line summary of the range. The line starts at zero so growth within a short range is
// visible; the all-time total is shown beside the chart instead.

import type { EarningsPoint } from "../api";
import { MICRO_PER_TOKEN, formatClock, formatShortDate, formatTokens } from "./format";

/** uPlot's data: x in Unix seconds, y in tokens earned since the first point. */
export type ChartData = [number[], number[]];

/** The ranges the chart offers, in days. */
export const CHART_RANGES = [
  { days: 1, label: "24 h" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
] as const;

/**
 * Sorts by time, keeps the last point of any repeated time, drops non-finite points,
 * measures from the first point (so the line starts at 0), and extends the line to `nowMs`
 * at its last value (nothing was credited since).
 */
export function toChartData(series: EarningsPoint[], nowMs: number): ChartData {
  const clean = series
    .filter((p) => Number.isFinite(p.tMs) && Number.isFinite(p.cumulative))
    .map((p, index) => ({ ...p, index }))
    .sort((a, b) => a.tMs - b.tMs || a.index - b.index);
  const xs: number[] = [];
  const ys: number[] = [];
  const base = clean[0]?.cumulative ?? 0;
  for (const p of clean) {
    const x = p.tMs / 1000;
    const y = (p.cumulative - base) / MICRO_PER_TOKEN;
    if (xs.length > 0 && xs[xs.length - 1] === x) {
      ys[ys.length - 1] = y;
    } else {
      xs.push(x);
      ys.push(y);
    }
  }
  const nowSecs = nowMs / 1000;
  if (xs.length > 0 && xs[xs.length - 1]! < nowSecs) {
    xs.push(nowSecs);
    ys.push(ys[ys.length - 1]!);
  }
  return [xs, ys];
}

/** Tokens earned within the series: last cumulative minus first, in micro-tokens. */
export function earnedInRange(series: EarningsPoint[]): number {
  if (series.length === 0) return 0;
  let first = series[0]!;
  let last = series[0]!;
  for (const p of series) {
    if (p.tMs < first.tMs) first = p;
    if (p.tMs >= last.tMs) last = p;
  }
  return Math.max(0, last.cumulative - first.cumulative);
}

/** "Earned 1.250 tokens in 7 days" or "Nothing earned in 24 h". */
export function rangeSummary(series: EarningsPoint[], rangeLabel: string): string {
  const earned = earnedInRange(series);
  return earned > 0 ? `Earned ${formatTokens(earned)} tokens in ${rangeLabel}` : `Nothing earned in ${rangeLabel}`;
}

/** Whether there is enough to draw a line. */
export function hasLine(data: ChartData): boolean {
  return data[0].length >= 2;
}

const MINUTE_SECS = 60;
const HOUR_SECS = 3600;
const DAY_SECS = 86_400;

/**
 * The tick steps (seconds) uPlot may choose from for a span: clock steps up to two days,
 * whole days beyond, so no two ticks of a long span fall on the same date (and share a label).
 */
export function timeAxisSteps(spanSecs: number): number[] {
  if (spanSecs > 2 * DAY_SECS) return [1, 2, 3, 7, 14, 30, 61, 91, 182, 365].map((d) => d * DAY_SECS);
  const minutes = [1, 5, 10, 15, 30].map((m) => m * MINUTE_SECS);
  const hours = [1, 2, 3, 6, 12, 24].map((h) => h * HOUR_SECS);
  return [...minutes, ...hours];
}

/** An x-axis label: the clock for spans up to two days (the date at midnight), else the date. */
export function timeAxisLabel(secs: number, spanSecs: number): string {
  const ms = secs * 1000;
  if (spanSecs > 2 * 86_400) return formatShortDate(ms);
  const clock = formatClock(ms);
  return clock === "00:00" ? formatShortDate(ms) : clock;
}
