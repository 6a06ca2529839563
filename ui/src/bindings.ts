// HAND-WRITTEN STAND-IN for the file src-tauri generates with tauri-specta 2.0.0-rc.26
// (src-tauri/src/bindings.rs). It mirrors that generator's shape (a `commands` object whose
// functions resolve to `{ status: "ok", data } | { status: "error", error }`, a `makeEvent`
// runtime) and the Rust type names, and follows /work/notes/app-contract.md. The generated
// file replaces it; nothing but src/api.ts imports this module, and api.ts derives every
// type it needs from `commands`, so a renamed type here cannot break the rest of the UI.

import { invoke as __TAURI_INVOKE } from "@tauri-apps/api/core";
import * as __TAURI_EVENT from "@tauri-apps/api/event";

/** Commands */
export const commands = {
  overview: () => typedError<Overview, AppError>(__TAURI_INVOKE("overview")),
  setContributing: (enabled: boolean) =>
    typedError<Overview, AppError>(__TAURI_INVOKE("set_contributing", { enabled })),
  snooze: (hours: number) => typedError<Overview, AppError>(__TAURI_INVOKE("snooze", { hours })),
  snoozeUntilTomorrow: () => typedError<Overview, AppError>(__TAURI_INVOKE("snooze_until_tomorrow")),
  earningsSeries: (days: number) =>
    typedError<EarningsPoint[], AppError>(__TAURI_INVOKE("earnings_series", { days })),
  receipts: (offset: number, limit: number) =>
    typedError<ReceiptPage, AppError>(__TAURI_INVOKE("receipts", { offset, limit })),
  verifyWallet: () => typedError<WalletCheck, AppError>(__TAURI_INVOKE("verify_wallet")),
  exportReceipts: (format: ExportFormat) =>
    typedError<string, AppError>(__TAURI_INVOKE("export_receipts", { format })),
  settings: () => typedError<Settings, AppError>(__TAURI_INVOKE("settings")),
  saveSettings: (settings: Settings) =>
    typedError<Settings, AppError>(__TAURI_INVOKE("save_settings", { settings })),
  nodeInfo: () => typedError<NodeInfo, AppError>(__TAURI_INVOKE("node_info")),
  preferences: () => typedError<Preferences, AppError>(__TAURI_INVOKE("preferences")),
  setPreferences: (p: Preferences) => typedError<Preferences, AppError>(__TAURI_INVOKE("set_preferences", { p })),
};

/** Events */
export const events = {
  overviewChanged: makeEvent<OverviewChanged>("overview-changed"),
};

/* Types */
export type AppError =
  | { kind: "invalidSetting"; key: string; message: string }
  | { kind: "io"; message: string }
  | { kind: "wallet"; message: string }
  | { kind: "nodeNotRunning" }
  | { kind: "autostart"; message: string };
export type ContributionState = "contributing" | "waiting" | "paused" | "offline";
export type PercentGauge = { ownerPercent: number; contributedPercent: number };
export type NetworkGauge = { ownerBytesPerSec: number; contributedBytesPerSec: number };
export type Gauges = { cpu: PercentGauge; memory: PercentGauge; gpu: PercentGauge | null; network: NetworkGauge };
export type NetworkInfo = { local: boolean; coordinator: string; connected: boolean; lastError: string | null };
export type JobCounts = { held: number; reported: number; abandoned: number };
export type TokenCounts = { today: number; total: number };
export type CacheView = {
  usedBytes: number;
  quotaBytes: number;
  items: number;
  servedBytes: number;
  earnedServing: number;
};
export type Overview = {
  state: ContributionState;
  reason: string;
  contributing: boolean;
  snoozedUntilMs: number | null;
  network: NetworkInfo;
  gauges: Gauges;
  jobs: JobCounts;
  tokens: TokenCounts;
  cache: CacheView;
};
export type OverviewChanged = Overview;
export type EarningsPoint = { tMs: number; cumulative: number };
export type ReceiptItem = { seq: number; work: string; amount: number; timeMs: number; issuer: string };
export type ReceiptPage = { total: number; items: ReceiptItem[] };
export type ChainCheck = { issuer: string; receipts: number; balance: number };
export type WalletCheck = { ok: boolean; chains: ChainCheck[]; message: string };
export type ExportFormat = "csv" | "json";
export type ContributionView = { enabled: boolean; snooze_until_ms: number | null };
export type PolicyView = {
  input_idle_secs: number;
  owner_cpu_pause_percent: number;
  owner_cpu_pause_after_secs: number;
  owner_cpu_resume_percent: number;
  owner_cpu_resume_after_secs: number;
  pause_on_battery: boolean;
  pause_on_fullscreen: boolean;
  cpu_max_celsius: number;
  gpu_max_celsius: number;
  thermal_resume_margin_celsius: number;
  min_free_memory_percent: number;
};
export type BudgetView = {
  max_cores: number | null;
  max_cpu_percent_per_core: number;
  max_memory_percent: number;
  gpu_enabled: boolean;
  upload_cap_kib_per_sec: number | null;
  download_cap_kib_per_sec: number | null;
  cache_disk_quota_mib: number;
};
export type ScheduleView = { compute: string[]; network: string[] };
export type Settings = {
  contribution: ContributionView;
  policy: PolicyView;
  budget: BudgetView;
  schedule: ScheduleView;
};
export type KeyStorageView = { keychain: boolean; detail: string };
export type BenchmarkView = {
  cpuScore?: number;
  memoryScore?: number;
  bandwidthUpBps?: number;
  bandwidthDownBps?: number;
};
export type ReputationView = { valid: number; invalid: number; streak: number };
export type NodeInfo = {
  nodeId: string;
  keyStorage: KeyStorageView;
  coordinator: string;
  connection: string;
  benchmark: BenchmarkView | null;
  reputation: ReputationView | null;
};
export type Notifications = {
  pausedForBatteryOrHeat: boolean;
  coordinatorUnreachable: boolean;
  firstTokens: boolean;
  dailySummary: boolean;
};
export type Preferences = { autostart: boolean; coordinator: string | null; notifications: Notifications };

/* Tauri Specta runtime */
async function typedError<T, E>(
  result: Promise<T>,
): Promise<{ status: "ok"; data: T } | { status: "error"; error: E }> {
  try {
    return { status: "ok", data: await result };
  } catch (e) {
    if (e instanceof Error) throw e;
    return { status: "error", error: e as any };
  }
}

function makeEvent<T>(name: string) {
  return {
    listen: (cb: __TAURI_EVENT.EventCallback<T>) => __TAURI_EVENT.listen(name, cb),
    once: (cb: __TAURI_EVENT.EventCallback<T>) => __TAURI_EVENT.once(name, cb),
  };
}
