import { describe, expect, it } from "vitest";
import { MIN_NETWORK_SCALE, nextNetworkScale, percentShares, quotaPercent, rateShares } from "../src/lib/gauges";

describe("gauge shares", () => {
  it("stacks owner, contributed and free to 100", () => {
    expect(percentShares(10, 55)).toEqual({ owner: 10, contributed: 55, free: 35 });
    expect(percentShares(0, 0)).toEqual({ owner: 0, contributed: 0, free: 100 });
    expect(percentShares(100, 0)).toEqual({ owner: 100, contributed: 0, free: 0 });
  });

  it("clamps readings out of range and treats NaN as zero", () => {
    expect(percentShares(-5, 120)).toEqual({ owner: 0, contributed: 100, free: 0 });
    expect(percentShares(Number.NaN, 30)).toEqual({ owner: 0, contributed: 30, free: 70 });
    // serde_json writes a float NaN as null.
    expect(percentShares(null, null)).toEqual({ owner: 0, contributed: 0, free: 100 });
  });

  it("shrinks both in proportion when together they pass 100", () => {
    const s = percentShares(60, 60);
    expect(s.owner).toBeCloseTo(50);
    expect(s.contributed).toBeCloseTo(50);
    expect(s.free).toBe(0);
    const t = percentShares(90, 30);
    expect(t.owner).toBeCloseTo(75);
    expect(t.contributed).toBeCloseTo(25);
    expect(t.owner + t.contributed + t.free).toBeCloseTo(100);
  });

  it("scales network rates against the larger of the scale, the total and 1 MiB/s", () => {
    expect(rateShares(0, 0, 0)).toEqual({ owner: 0, contributed: 0, free: 100 });
    const small = rateShares(256 * 1024, 256 * 1024, 0);
    expect(small.owner).toBeCloseTo(25);
    expect(small.contributed).toBeCloseTo(25);
    const scaled = rateShares(1 * MIN_NETWORK_SCALE, 3 * MIN_NETWORK_SCALE, 8 * MIN_NETWORK_SCALE);
    expect(scaled.owner).toBeCloseTo(12.5);
    expect(scaled.contributed).toBeCloseTo(37.5);
    const over = rateShares(3 * MIN_NETWORK_SCALE, 1 * MIN_NETWORK_SCALE, 2 * MIN_NETWORK_SCALE);
    expect(over.owner + over.contributed).toBeCloseTo(100);
    expect(rateShares(-1, Number.NaN, 0)).toEqual({ owner: 0, contributed: 0, free: 100 });
  });

  it("jumps the network scale so a new peak fills 80%, and lets it decay slowly", () => {
    expect(nextNetworkScale(0, 0)).toBe(MIN_NETWORK_SCALE);
    expect(nextNetworkScale(MIN_NETWORK_SCALE, 8 * MIN_NETWORK_SCALE)).toBe(10 * MIN_NETWORK_SCALE);
    expect(nextNetworkScale(10 * MIN_NETWORK_SCALE, 0)).toBeCloseTo(9.5 * MIN_NETWORK_SCALE);
    expect(nextNetworkScale(Number.NaN, Number.NaN)).toBe(MIN_NETWORK_SCALE);
  });

  it("gives space used as a percent of the quota", () => {
    expect(quotaPercent(5, 10)).toBe(50);
    expect(quotaPercent(15, 10)).toBe(100);
    expect(quotaPercent(5, 0)).toBe(0);
  });
});
