import { describe, expect, it } from "vitest";
import { earnedInRange, hasLine, rangeSummary, timeAxisLabel, timeAxisSteps, toChartData } from "../src/lib/earningsChart";

describe("earnings chart data", () => {
  it("converts ms to seconds and micro-tokens to tokens earned since the first point, and extends to now", () => {
    const data = toChartData(
      [
        { tMs: 1_000, cumulative: 10_000_000 },
        { tMs: 2_000, cumulative: 11_500_000 },
      ],
      5_000,
    );
    expect(data).toEqual([
      [1, 2, 5],
      [0, 1.5, 1.5],
    ]);
    expect(hasLine(data)).toBe(true);
  });

  it("sorts points, keeps the last of equal times and drops broken points", () => {
    const data = toChartData(
      [
        { tMs: 3_000, cumulative: 3_000_000 },
        { tMs: 1_000, cumulative: 1_000_000 },
        { tMs: 3_000, cumulative: 4_000_000 },
        { tMs: Number.NaN, cumulative: 9 },
        { tMs: 2_000, cumulative: Number.POSITIVE_INFINITY },
      ],
      3_000,
    );
    expect(data).toEqual([
      [1, 3],
      [0, 3],
    ]);
  });

  it("handles an empty series and a single point", () => {
    expect(toChartData([], 10_000)).toEqual([[], []]);
    expect(hasLine(toChartData([], 10_000))).toBe(false);
    const one = toChartData([{ tMs: 1_000, cumulative: 2_000_000 }], 10_000);
    expect(one).toEqual([
      [1, 10],
      [0, 0],
    ]);
    expect(hasLine(toChartData([{ tMs: 10_000, cumulative: 1 }], 10_000))).toBe(false);
  });

  it("sums what was earned in the range", () => {
    const series = [
      { tMs: 2_000, cumulative: 7_000_000 },
      { tMs: 1_000, cumulative: 5_000_000 },
      { tMs: 3_000, cumulative: 8_250_000 },
    ];
    expect(earnedInRange(series)).toBe(3_250_000);
    expect(earnedInRange([])).toBe(0);
    expect(rangeSummary(series, "7 days")).toBe("Earned 3.25 tokens in 7 days");
    expect(rangeSummary([], "24 h")).toBe("Nothing earned in 24 h");
  });
});

describe("time axis labels", () => {
  const at = (d: Date) => d.getTime() / 1000;
  it("shows the clock within two days, the date at midnight and for longer spans", () => {
    expect(timeAxisLabel(at(new Date(2025, 2, 12, 14, 0)), 86_400)).toBe("14:00");
    expect(timeAxisLabel(at(new Date(2025, 2, 12, 0, 0)), 86_400)).toBe("12 Mar");
    expect(timeAxisLabel(at(new Date(2025, 2, 12, 14, 0)), 7 * 86_400)).toBe("12 Mar");
  });
});

describe("time axis steps", () => {
  it("offers only whole days beyond two days, so midnight ticks never repeat a date", () => {
    for (const days of [3, 7, 30]) {
      const steps = timeAxisSteps(days * 86_400);
      expect(steps.every((step) => step % 86_400 === 0)).toBe(true);
      const start = new Date(2025, 2, 10).getTime() / 1000;
      const labels = [0, 1, 2, 3].map((i) => timeAxisLabel(start + i * steps[0]!, days * 86_400));
      expect(new Set(labels).size).toBe(labels.length);
    }
  });

  it("offers clock steps from a minute to a day for short spans", () => {
    const steps = timeAxisSteps(86_400);
    expect(steps[0]).toBe(60);
    expect(steps).toContain(3600);
    expect(steps[steps.length - 1]).toBe(86_400);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  });
});
