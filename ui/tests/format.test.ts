import { describe, expect, it } from "vitest";
import {
  capitalise,
  formatBitRate,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatMoment,
  formatPercent,
  formatRate,
  formatShortDate,
  formatTokens,
  groupThousands,
  shortId,
} from "../src/lib/format";

describe("formatTokens (micro-tokens → tokens)", () => {
  it.each([
    [0, "0"],
    [1, "0.000001"],
    [125, "0.000125"],
    [500_000, "0.5"],
    [999_400, "0.999"],
    [999_999, "1.00"],
    [984_371, "0.984"],
    [12_345, "0.0123"],
    [1_005, "0.00101"],
    [1_000_000, "1.00"],
    [12_345_678, "12.35"],
    [12_344_999, "12.34"],
    [999_994_999, "999.99"],
    [999_995_000, "1,000.00"],
    [1_234_567_890, "1,234.57"],
    [1_000_000_000_000, "1,000,000.00"],
    [-2_500_000, "-2.50"],
    [-1, "-0.000001"],
  ])("%d µ → %s", (micro, text) => {
    expect(formatTokens(micro)).toBe(text);
  });

  it("rounds a non-integer micro amount and shows non-finite as a dash", () => {
    expect(formatTokens(0.4)).toBe("0");
    expect(formatTokens(Number.NaN)).toBe("–");
    expect(formatTokens(Number.POSITIVE_INFINITY)).toBe("–");
  });
});

describe("formatBytes and rates", () => {
  it.each([
    [0, "0 B"],
    [512, "512 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1536, "1.5 KiB"],
    [10 * 1024 * 1024 * 1024, "10 GiB"],
    [123.4 * 1024 * 1024, "123 MiB"],
    [1023.7 * 1024, "1 MiB"],
    [5 * 1024 ** 4, "5 TiB"],
  ])("%d bytes → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("shows negative and non-finite byte counts as a dash", () => {
    expect(formatBytes(-1)).toBe("–");
    expect(formatBytes(Number.NaN)).toBe("–");
    expect(formatRate(-5)).toBe("–");
  });

  it("adds /s to rates", () => {
    expect(formatRate(0)).toBe("0 B/s");
    expect(formatRate(1.25 * 1024 * 1024)).toBe("1.3 MiB/s");
  });

  it("quotes link speeds in bits per second", () => {
    expect(formatBitRate(0)).toBe("0 bit/s");
    expect(formatBitRate(999)).toBe("999 bit/s");
    expect(formatBitRate(80_000_000)).toBe("80 Mbit/s");
    expect(formatBitRate(1_000_000)).toBe("1 Mbit/s");
    expect(formatBitRate(1_200_000)).toBe("1.2 Mbit/s");
    expect(formatBitRate(2_500_000_000)).toBe("2.5 Gbit/s");
    expect(formatBitRate(Number.NaN)).toBe("–");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [-5000, "0 s"],
    [44_600, "45 s"],
    [60_000, "1 min"],
    [5 * 60_000 + 59_000, "5 min"],
    [3_600_000, "1 h"],
    [2 * 3_600_000 + 15 * 60_000, "2 h 15 min"],
    [86_400_000, "1 d"],
    [3 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000, "3 d 4 h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("small formats", () => {
  it("formats percentages, counts, ids and sentences", () => {
    expect(formatPercent(42.4)).toBe("42%");
    expect(formatPercent(142)).toBe("100%");
    expect(formatPercent(-3)).toBe("0%");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(-1200)).toBe("-1,200");
    expect(groupThousands("100")).toBe("100");
    expect(shortId("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3eovsq")).toBe("mfrggzdfmz…");
    expect(shortId("short")).toBe("short");
    expect(capitalise("you are away")).toBe("You are away");
    expect(capitalise("")).toBe("");
  });

  it("formats moments relative to now in local time", () => {
    const now = new Date(2025, 2, 12, 10, 0).getTime(); // Wed 12 Mar 2025 10:00
    expect(formatClock(new Date(2025, 2, 12, 9, 5).getTime())).toBe("09:05");
    expect(formatMoment(new Date(2025, 2, 12, 14, 30).getTime(), now)).toBe("14:30");
    expect(formatMoment(new Date(2025, 2, 13, 8, 0).getTime(), now)).toBe("tomorrow 08:00");
    expect(formatMoment(new Date(2025, 2, 11, 22, 10).getTime(), now)).toBe("yesterday 22:10");
    expect(formatMoment(new Date(2025, 2, 15, 7, 0).getTime(), now)).toBe("Sat 07:00");
    expect(formatMoment(new Date(2025, 2, 1, 7, 0).getTime(), now)).toBe("1 Mar 2025 07:00");
    expect(formatShortDate(new Date(2025, 11, 24).getTime())).toBe("24 Dec");
  });
});
