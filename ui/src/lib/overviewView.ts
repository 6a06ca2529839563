// The dashboard's view model: an `Overview` from the backend turned into the words and
// numbers the page shows. Pure, so the page stays a thin template.

import type { ContributionState, Overview } from "../api";
import { coordinatorHostPort } from "./coordinatorAddress";
import {
  capitalise,
  formatBytes,
  formatCount,
  formatDuration,
  formatMoment,
  formatPercent,
  formatRate,
  formatTokens,
} from "./format";
import { percentShares, quotaPercent, rateShares, type Shares } from "./gauges";

export type Tone = "good" | "wait" | "paused" | "offline";

export type GaugeView = {
  id: "cpu" | "gpu" | "memory" | "network";
  label: string;
  /** False when the resource cannot be read (no GPU). */
  available: boolean;
  shares: Shares;
  ownerText: string;
  contributedText: string;
  /** The whole gauge in one sentence, for screen readers. */
  description: string;
};

export type DashboardView = {
  stateWord: string;
  tone: Tone;
  reason: string;
  contributing: boolean;
  snooze: { active: boolean; text: string };
  network: {
    local: boolean;
    label: string;
    detail: string;
    connected: boolean;
    connectionText: string;
    error: string | null;
  };
  gauges: GaugeView[];
  jobs: { held: string; reported: string; abandoned: string };
  tokens: { today: string; total: string; todayMicro: number; totalMicro: number };
  cache: {
    enabled: boolean;
    percent: number;
    usedText: string;
    quotaText: string;
    items: string;
    served: string;
    earned: string;
  };
};

const STATE_WORDS: Record<ContributionState, string> = {
  contributing: "Contributing",
  waiting: "Waiting",
  paused: "Paused",
  offline: "Offline",
};

const TONES: Record<ContributionState, Tone> = {
  contributing: "good",
  waiting: "wait",
  paused: "paused",
  offline: "offline",
};

/** The state as the word the dashboard shows ("Contributing", ...). */
export function stateWord(state: ContributionState): string {
  return STATE_WORDS[state] ?? capitalise(String(state));
}

/** The reason as a sentence: capital first letter, full stop at the end. */
export function reasonSentence(reason: string): string {
  const text = capitalise(reason.trim());
  if (!text) return "";
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function percentGauge(
  id: GaugeView["id"],
  label: string,
  gauge: { ownerPercent: number | null; contributedPercent: number | null } | null,
): GaugeView {
  if (!gauge) {
    return {
      id,
      label,
      available: false,
      shares: { owner: 0, contributed: 0, free: 100 },
      ownerText: "–",
      contributedText: "–",
      description: `${label}: no ${label} found`,
    };
  }
  const shares = percentShares(gauge.ownerPercent, gauge.contributedPercent);
  const ownerText = formatPercent(shares.owner);
  const contributedText = formatPercent(shares.contributed);
  return {
    id,
    label,
    available: true,
    shares,
    ownerText,
    contributedText,
    description: `${label}: you use ${ownerText}, contributed ${contributedText}`,
  };
}

/** Builds the dashboard's view; `networkScale` is the network bar's full scale in bytes/s. */
export function toDashboardView(overview: Overview, nowMs: number, networkScale: number): DashboardView {
  const { network, gauges, jobs, tokens, cache } = overview;
  const snoozeActive = overview.snoozedUntilMs !== null && overview.snoozedUntilMs > nowMs;
  const net = gauges.network;
  const netShares = rateShares(net.ownerBytesPerSec, net.contributedBytesPerSec, networkScale);
  const netOwner = formatRate(net.ownerBytesPerSec);
  const netContributed = formatRate(net.contributedBytesPerSec);
  return {
    stateWord: stateWord(overview.state),
    tone: TONES[overview.state] ?? "offline",
    // While snoozed the snooze line says it all; a bare "snoozed" reason would repeat it.
    reason: snoozeActive && /^snoozed\.?$/i.test(overview.reason.trim()) ? "" : reasonSentence(overview.reason),
    contributing: overview.contributing,
    snooze: snoozeActive
      ? {
          active: true,
          text: `Snoozed until ${formatMoment(overview.snoozedUntilMs!, nowMs)} (${formatDuration(
            overview.snoozedUntilMs! - nowMs,
          )} left)`,
        }
      : { active: false, text: "" },
    network: {
      local: network.local,
      label: network.local ? "Local network" : coordinatorHostPort(network.coordinator),
      detail: network.local
        ? "A coordinator inside this app; nothing leaves this computer."
        : network.coordinator,
      connected: network.connected,
      connectionText: network.connected ? "Connected" : "Not connected",
      error: network.lastError,
    },
    gauges: [
      percentGauge("cpu", "CPU", gauges.cpu),
      percentGauge("gpu", "GPU", gauges.gpu),
      percentGauge("memory", "Memory", gauges.memory),
      {
        id: "network",
        label: "Network",
        available: true,
        shares: netShares,
        ownerText: netOwner,
        contributedText: netContributed,
        description: `Network: you use ${netOwner}, contributed ${netContributed}`,
      },
    ],
    jobs: {
      held: formatCount(jobs.held),
      reported: formatCount(jobs.reported),
      abandoned: formatCount(jobs.abandoned),
    },
    tokens: {
      today: formatTokens(tokens.today),
      total: formatTokens(tokens.total),
      todayMicro: tokens.today,
      totalMicro: tokens.total,
    },
    cache: {
      enabled: cache.quotaBytes > 0,
      percent: quotaPercent(cache.usedBytes, cache.quotaBytes),
      usedText: formatBytes(cache.usedBytes),
      quotaText: formatBytes(cache.quotaBytes),
      items: formatCount(cache.items),
      served: formatBytes(cache.servedBytes),
      earned: formatTokens(cache.earnedServing),
    },
  };
}
