// The Node page's view model: `node_info` plus the live overview, in words.

import type { NodeInfo, Overview } from "../api";
import { coordinatorHostPort } from "./coordinatorAddress";
import { capitalise, formatBitRate, formatCount } from "./format";

export type NodeView = {
  networkLabel: string;
  connected: boolean;
  connection: string;
  lastError: string | null;
  benchmark: { label: string; value: string }[];
  reputation: { valid: string; invalid: string; streak: string; accepted: string } | null;
};

/** "99.5%" of results accepted; one decimal only below 100. */
export function acceptedShare(valid: number, invalid: number): string {
  const total = valid + invalid;
  if (total <= 0) return "–";
  const share = (valid / total) * 100;
  if (share === 100) return "100%";
  return `${(Math.floor(share * 10) / 10).toFixed(1)}%`;
}

export function describeNode(info: NodeInfo, overview: Overview | null): NodeView {
  const local = overview?.network.local ?? false;
  const connected = overview?.network.connected ?? /^registered/i.test(info.connection);
  const b = info.benchmark;
  const benchmark: NodeView["benchmark"] = [];
  // Units as the node measures them: CPU in million integer operations per second on one
  // core, memory copy in MB/s, links in bits per second.
  const present = (v: number | null | undefined): v is number => typeof v === "number";
  if (present(b?.cpuScore)) benchmark.push({ label: "CPU (one core)", value: `${formatCount(b.cpuScore)} M ops/s` });
  if (present(b?.memoryScore)) benchmark.push({ label: "Memory copy", value: `${formatCount(b.memoryScore)} MB/s` });
  if (present(b?.bandwidthUpBps)) benchmark.push({ label: "Upload", value: formatBitRate(b.bandwidthUpBps) });
  if (present(b?.bandwidthDownBps)) benchmark.push({ label: "Download", value: formatBitRate(b.bandwidthDownBps) });
  const r = info.reputation;
  return {
    networkLabel: local ? "Local network (built into this app)" : coordinatorHostPort(info.coordinator),
    connected,
    connection: capitalise(info.connection) || (connected ? "Connected" : "Not connected"),
    lastError: overview?.network.lastError ?? null,
    benchmark,
    reputation: r
      ? {
          valid: formatCount(r.valid),
          invalid: formatCount(r.invalid),
          streak: formatCount(r.streak),
          accepted: acceptedShare(r.valid, r.invalid),
        }
      : null,
  };
}
