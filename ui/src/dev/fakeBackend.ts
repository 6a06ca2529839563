// An in-memory backend for a plain browser (npm run dev, a static build opened for design
// review). It is never loaded inside Tauri. Query flags pick what it shows:
//   ?state=contributing|waiting|paused|offline   starting state (default contributing)
//   ?gpu=0        no GPU readable            ?remote=1   a real coordinator, not the local network
//   ?keyfile=1    key kept in a file          ?new=1      a fresh install: no receipts yet
//   ?fail=save    saving settings fails on the server with an invalidSetting error
//   ?frozen=1     no live ticks (stable screenshots)

import type { Backend } from "../api";
import type {
  AppError,
  ContributionState,
  EarningsPoint,
  NodeInfo,
  Overview,
  Preferences,
  Receipt,
  SettingProblem,
  Settings,
} from "../api";
import { ApiError } from "../lib/errors";
import { checkCoordinator } from "../lib/coordinatorAddress";
import { formatTokens } from "../lib/format";
import { parseWindow } from "../lib/schedule";
import { NODE_RULES, valueAt } from "../lib/settingsRules";
import { defaultPreferences, defaultSettings } from "../lib/settingsDefaults";

const NODE_ID = "nbswy3dpeb3w64tmmqqgc3tjmnqwy5dfmzxw4zlsonuw4z3bnrsa";
const LOCAL_KEY = "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3eovsq";
const REMOTE = `${LOCAL_KEY}@coord.idleshare.example:7350`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small deterministic generator, so screenshots repeat. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function fail(error: AppError): never {
  throw new ApiError(error);
}

/** About 30 days of receipts, more at night when the owner is away. */
function makeReceipts(now: number, rand: () => number): Receipt[] {
  const receipts: Receipt[] = [];
  let t = now - 30 * DAY;
  let seq = 1;
  while (t < now - 60_000) {
    const hour = new Date(t).getHours();
    const away = hour < 8 || hour >= 19;
    t += (away ? 25 : 90) * 60_000 * (0.5 + rand());
    if (t >= now) break;
    const serving = rand() < 0.15;
    receipts.push({
      seq,
      work: serving ? `cache:${Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0")}` : `unit:${1000 + seq}`,
      source: serving ? "serving" : "compute",
      paidFrom: serving ? "order 7, escrowed by the client" : `the escrow of the job that unit-${1000 + seq} belongs to`,
      amount: serving ? 2_000 + Math.floor(rand() * 8_000) : 40_000 + Math.floor(rand() * 160_000),
      timeMs: Math.floor(t),
      issuer: LOCAL_KEY,
    });
    seq += 1;
  }
  return receipts;
}

const REASONS: Record<ContributionState, string> = {
  contributing: "you are away",
  waiting: "you are using this computer (idle 12 s of 180 s needed)",
  paused: "running from the battery",
  offline: "the coordinator cannot be reached",
};

export function createFakeBackend(params: URLSearchParams, clock: () => number = Date.now): Backend {
  const rand = random(7);
  const now0 = clock();
  const fresh = params.get("new") === "1";
  const receipts = fresh ? [] : makeReceipts(now0, rand);
  let settings: Settings = defaultSettings();
  let preferences: Preferences = defaultPreferences();
  if (params.get("remote") === "1") preferences.coordinator = REMOTE;
  const listeners = new Set<(o: Overview) => void>();
  const asked = params.get("state") ?? "contributing";
  const baseState: ContributionState = asked in REASONS ? (asked as ContributionState) : "contributing";

  const sum = (items: Receipt[]) => items.reduce((acc, r) => acc + r.amount, 0);
  const startOfToday = () => {
    const d = new Date(clock());
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  };

  const overview: Overview = {
    state: baseState,
    reason: REASONS[baseState],
    contributing: true,
    snoozedUntilMs: null,
    network: {
      local: preferences.coordinator === null,
      coordinator: preferences.coordinator ?? `${LOCAL_KEY}@127.0.0.1:7350`,
      connected: baseState !== "offline",
      lastError: baseState === "offline" ? "no answer from coord.idleshare.example:7350 (timed out after 10 s)" : null,
    },
    gauges: {
      cpu: { ownerPercent: 6, contributedPercent: 58 },
      memory: { ownerPercent: 41, contributedPercent: 14 },
      gpu: params.get("gpu") === "0" ? null : { ownerPercent: 2, contributedPercent: 71 },
      network: { ownerBytesPerSec: 180 * 1024, contributedBytesPerSec: 1.6 * 1024 * 1024 },
    },
    jobs: { held: 2, reported: receipts.filter((r) => r.work.startsWith("unit:")).length, abandoned: 3 },
    tokens: { today: 0, total: 0 },
    cache: {
      usedBytes: 3.4 * 1024 ** 3,
      quotaBytes: settings.budget.cache_disk_quota_mib * 1024 * 1024,
      items: 128,
      servedBytes: 7.9 * 1024 ** 3,
      earnedServing: sum(receipts.filter((r) => r.work.startsWith("cache:"))),
    },
  };

  function refreshTotals(): void {
    overview.tokens.total = sum(receipts);
    overview.tokens.today = sum(receipts.filter((r) => r.timeMs >= startOfToday()));
  }

  /** State and reason from the switch and snooze, as the node's policy would give them. */
  function settleState(): void {
    const now = clock();
    if (overview.snoozedUntilMs !== null && overview.snoozedUntilMs <= now) overview.snoozedUntilMs = null;
    if (!overview.contributing) {
      overview.state = "paused";
      overview.reason = "contributing is switched off";
    } else if (overview.snoozedUntilMs !== null) {
      overview.state = "paused";
      overview.reason = "snoozed";
    } else {
      overview.state = baseState;
      overview.reason = REASONS[baseState];
    }
    const running = overview.state === "contributing";
    if (!running) {
      overview.gauges.cpu.contributedPercent = 0;
      overview.gauges.memory.contributedPercent = 0;
      if (overview.gauges.gpu) overview.gauges.gpu.contributedPercent = 0;
      overview.gauges.network.contributedBytesPerSec = 0;
    }
    settings.contribution = { enabled: overview.contributing, snooze_until_ms: overview.snoozedUntilMs };
  }

  function emit(): void {
    const snapshot = copy(overview);
    for (const listener of listeners) listener(snapshot);
  }

  const wander = (value: number, step: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, value + (rand() - 0.5) * 2 * step));

  function tick(): void {
    const g = overview.gauges;
    g.cpu.ownerPercent = wander(g.cpu.ownerPercent ?? 5, 3, 1, 20);
    g.memory.ownerPercent = wander(g.memory.ownerPercent ?? 40, 1, 30, 55);
    g.network.ownerBytesPerSec = wander(g.network.ownerBytesPerSec, 60_000, 0, 600_000);
    if (overview.state === "contributing") {
      g.cpu.contributedPercent = wander(g.cpu.contributedPercent || 55, 6, 30, 75);
      g.memory.contributedPercent = wander(g.memory.contributedPercent || 14, 1, 8, 20);
      if (g.gpu) g.gpu.contributedPercent = wander(g.gpu.contributedPercent || 70, 5, 40, 90);
      g.network.contributedBytesPerSec = wander(g.network.contributedBytesPerSec || 1e6, 300_000, 0, 4e6);
      if (rand() < 0.2) {
        const last = receipts[receipts.length - 1];
        receipts.push({
          seq: (last?.seq ?? 0) + 1,
          work: `unit:${1001 + receipts.length}`,
          source: "compute",
          paidFrom: `the escrow of the job that unit-${1001 + receipts.length} belongs to`,
          amount: 40_000 + Math.floor(rand() * 160_000),
          timeMs: clock(),
          issuer: LOCAL_KEY,
        });
        overview.jobs.reported += 1;
        refreshTotals();
      }
    }
    settleState();
    emit();
  }

  refreshTotals();
  settleState();
  if (params.get("frozen") !== "1" && typeof window !== "undefined") window.setInterval(tick, 1000);

  const pause = <T>(value: T, ms = 120): Promise<T> =>
    new Promise((resolve) => setTimeout(() => resolve(value), ms));

  /** Every problem, worded like the node's (its rules from the same exported table). */
  function problems(next: Settings): SettingProblem[] {
    const found: SettingProblem[] = [];
    for (const which of ["compute", "network"] as const) {
      next.schedule[which].forEach((text, index) => {
        if (!parseWindow(text)) found.push({ key: `schedule.${which}.${index}`, message: `bad schedule window "${text}"` });
      });
    }
    for (const rule of NODE_RULES.ranges) {
      const value = valueAt(next, rule.key);
      if (value === null && rule.optional) continue;
      if (typeof value !== "number" || !Number.isInteger(value) || value < rule.min || value > rule.max) {
        found.push({ key: rule.key, message: `${rule.key} = ${String(value)} is out of range ${rule.min}..=${rule.max}` });
      }
    }
    for (const { key, bound_key } of NODE_RULES.not_above) {
      if (found.some((p) => p.key === key || p.key === bound_key)) continue;
      const value = valueAt(next, key) as number;
      const bound = valueAt(next, bound_key) as number;
      if (value > bound) found.push({ key, message: `${key} = ${value} must not be above ${bound_key} = ${bound}` });
    }
    return found;
  }

  function checkSettings(next: Settings): void {
    if (params.get("fail") === "save") {
      fail({ kind: "invalidSetting", key: "policy.input_idle_secs", message: "the node refused this value (simulated)" });
    }
    const first = problems(next)[0];
    if (first) fail({ kind: "invalidSetting", ...first });
  }

  function series(days: number): EarningsPoint[] {
    const from = clock() - days * DAY;
    let cumulative = sum(receipts.filter((r) => r.timeMs < from));
    const points: EarningsPoint[] = [{ tMs: from, cumulative }];
    for (const r of receipts) {
      if (r.timeMs < from) continue;
      cumulative += r.amount;
      points.push({ tMs: r.timeMs, cumulative });
    }
    return points;
  }

  const nodeInfo = (): NodeInfo => ({
    nodeId: NODE_ID,
    keyStorage:
      params.get("keyfile") === "1"
        ? { keychain: false, detail: "/home/owner/.local/share/idleshare/node.key (mode 0600)" }
        : { keychain: true, detail: "Secret Service (login keyring)" },
    coordinator: overview.network.coordinator,
    connection: overview.network.connected ? "registered, heartbeat rtt 0.42 ms" : "retrying in 8.0 s: timed out",
    benchmark: fresh
      ? null
      : { cpuScore: 1843, memoryScore: 9120, bandwidthUpBps: 38_000_000, bandwidthDownBps: 240_000_000 },
    reputation: fresh ? null : { valid: receipts.length, invalid: 1, streak: Math.min(receipts.length, 212) },
  });

  return {
    overview: () => pause(copy(overview), 40),
    async setContributing(enabled) {
      overview.contributing = enabled;
      settleState();
      emit();
      return pause(copy(overview));
    },
    async snooze(hours) {
      overview.snoozedUntilMs = hours > 0 ? clock() + hours * HOUR : null;
      settleState();
      emit();
      return pause(copy(overview));
    },
    async snoozeUntilTomorrow() {
      const tomorrow = new Date(startOfToday() + DAY + 8 * HOUR);
      overview.snoozedUntilMs = tomorrow.getTime();
      settleState();
      emit();
      return pause(copy(overview));
    },
    earningsSeries: (days) => pause(series(days)),
    receipts(offset, limit) {
      const newestFirst = [...receipts].reverse();
      return pause({ total: receipts.length, items: newestFirst.slice(offset, offset + limit) });
    },
    verifyWallet() {
      const total = sum(receipts);
      return pause(
        {
          ok: true,
          chains: receipts.length ? [{ issuer: LOCAL_KEY, receipts: receipts.length, balance: total }] : [],
          message: receipts.length
            ? `All ${receipts.length} receipts verify: signatures and chain intact; balance ${formatTokens(total)} tokens.`
            : "No receipts yet.",
        },
        500,
      );
    },
    exportReceipts(format) {
      const date = new Date(clock()).toISOString().slice(0, 10);
      return pause(`/home/owner/Downloads/idleshare-receipts-${date}.${format}`, 300);
    },
    settings: () => pause(copy(settings)),
    async saveSettings(next) {
      await pause(null, 250);
      checkSettings(next);
      // Like the app: the switch and snooze stay as stored.
      settings = { ...copy(next), contribution: settings.contribution };
      overview.cache.quotaBytes = settings.budget.cache_disk_quota_mib * 1024 * 1024;
      return copy(settings);
    },
    validateSettings: (next) => pause(problems(next), 20),
    nodeInfo: () => pause(nodeInfo()),
    preferences: () => pause(copy(preferences)),
    async setPreferences(next) {
      await pause(null, 150);
      const problem = checkCoordinator(next.coordinator ?? "");
      if (problem) fail({ kind: "invalidSetting", key: "coordinator", message: problem });
      preferences = copy(next);
      overview.network.local = preferences.coordinator === null;
      overview.network.coordinator = preferences.coordinator ?? `${LOCAL_KEY}@127.0.0.1:7350`;
      emit();
      return copy(preferences);
    },
    async onOverview(handler) {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  };
}
