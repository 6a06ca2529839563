// Gauge arithmetic: the owner's use and the contributed share of a resource as the widths of
// a stacked bar (owner, contributed, free), always summing to 100.

/** Widths in percent of the whole bar. */
export type Shares = { owner: number; contributed: number; free: number };

/** 0–100; an unreadable reading (null: the node sends a float NaN as null) counts as 0. */
function clampPercent(value: number | null): number {
  return value !== null && Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}

/**
 * Shares of a resource measured in percent. Readings are clamped to 0–100; if together they
 * exceed 100 (two samples taken a moment apart), both shrink in proportion.
 */
export function percentShares(ownerPercent: number | null, contributedPercent: number | null): Shares {
  let owner = clampPercent(ownerPercent);
  let contributed = clampPercent(contributedPercent);
  const used = owner + contributed;
  if (used > 100) {
    owner = (owner / used) * 100;
    contributed = 100 - owner;
  }
  return { owner, contributed, free: Math.max(0, 100 - owner - contributed) };
}

/** The smallest full scale for a network bar: 1 MiB/s, so a trickle does not fill it. */
export const MIN_NETWORK_SCALE = 1024 * 1024;

/**
 * Shares of a network link measured in bytes per second, against a full scale (the busiest
 * recent rate). Negative or non-finite rates count as zero.
 */
export function rateShares(ownerBytesPerSec: number, contributedBytesPerSec: number, scale: number): Shares {
  const owner = Number.isFinite(ownerBytesPerSec) ? Math.max(0, ownerBytesPerSec) : 0;
  const contributed = Number.isFinite(contributedBytesPerSec) ? Math.max(0, contributedBytesPerSec) : 0;
  const full = Math.max(scale, owner + contributed, MIN_NETWORK_SCALE);
  return percentShares((owner / full) * 100, (contributed / full) * 100);
}

/** A new peak fills this share of the network bar, leaving room above it. */
export const NETWORK_HEADROOM = 0.8;

/**
 * The next full scale for a network bar: jumps up at once so a new peak fills 80 % of the
 * bar, and decays slowly (by `decay` per sample) so the bar does not stay flat after a burst.
 */
export function nextNetworkScale(previous: number, totalBytesPerSec: number, decay = 0.95): number {
  const total = Number.isFinite(totalBytesPerSec) ? Math.max(0, totalBytesPerSec) : 0;
  const kept = (Number.isFinite(previous) ? previous : 0) * decay;
  return Math.max(MIN_NETWORK_SCALE, total / NETWORK_HEADROOM, kept);
}

/** Space used of a quota, 0–100; 0 when there is no quota. */
export function quotaPercent(used: number, quota: number): number {
  if (!(quota > 0) || !Number.isFinite(used)) return 0;
  return clampPercent((used / quota) * 100);
}
