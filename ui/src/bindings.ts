// HAND-WRITTEN STAND-IN for the file src-tauri generates (tauri-specta style).
// It follows /work/notes/app-contract.md; the generated file replaces it. Nothing but
// src/api.ts imports this module.
//
// Assumptions where the contract is silent (see ui/README.md):
// - every command may fail with `AppError`, so each returns a `Result` as tauri-specta does;
// - `Settings` keeps the node's settings.toml key names (snake_case), because error keys
//   such as "policy.owner_cpu_pause_percent" and the `setting-<section>.<key>` test ids use
//   them; absent optional values are `null`;
// - the argument of `set_preferences` is named `p`, as in the contract.

import { invoke as TAURI_INVOKE } from "@tauri-apps/api/core";
import { listen as TAURI_LISTEN, type UnlistenFn } from "@tauri-apps/api/event";

export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export type AppError =
  | { kind: "invalidSetting"; key: string; message: string }
  | { kind: "io"; message: string }
  | { kind: "wallet"; message: string }
  | { kind: "nodeNotRunning" }
  | { kind: "autostart"; message: string };

export type ContributionState = "contributing" | "waiting" | "paused" | "offline";
export type PercentGauge = { ownerPercent: number; contributedPercent: number };
export type NetworkGauge = { ownerBytesPerSec: number; contributedBytesPerSec: number };

export type Overview = {
  state: ContributionState;
  reason: string;
  contributing: boolean;
  snoozedUntilMs: number | null;
  network: { local: boolean; coordinator: string; connected: boolean; lastError: string | null };
  gauges: {
    cpu: PercentGauge;
    memory: PercentGauge;
    gpu: PercentGauge | null;
    network: NetworkGauge;
  };
  jobs: { held: number; reported: number; abandoned: number };
  tokens: { today: number; total: number };
  cache: {
    usedBytes: number;
    quotaBytes: number;
    items: number;
    servedBytes: number;
    earnedServing: number;
  };
};

export type EarningsPoint = { tMs: number; cumulative: number };
export type Receipt = { seq: number; work: string; amount: number; timeMs: number; issuer: string };
export type ReceiptPage = { total: number; items: Receipt[] };
export type WalletCheck = {
  ok: boolean;
  chains: { issuer: string; receipts: number; balance: number }[];
  message: string;
};
export type ExportFormat = "csv" | "json";

export type ContributionSettings = { enabled: boolean; snooze_until_ms: number | null };
export type PolicySettings = {
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
export type BudgetSettings = {
  max_cores: number | null;
  max_cpu_percent_per_core: number;
  max_memory_percent: number;
  gpu_enabled: boolean;
  upload_cap_kib_per_sec: number | null;
  download_cap_kib_per_sec: number | null;
  cache_disk_quota_mib: number;
};
/** Each entry a window such as "mon-fri 18:00-08:00"; an empty list means never. */
export type ScheduleSettings = { compute: string[]; network: string[] };
export type Settings = {
  contribution: ContributionSettings;
  policy: PolicySettings;
  budget: BudgetSettings;
  schedule: ScheduleSettings;
};

export type NodeInfo = {
  nodeId: string;
  keyStorage: { keychain: boolean; detail: string };
  coordinator: string;
  connection: string;
  benchmark: {
    cpuScore?: number;
    memoryScore?: number;
    bandwidthUpBps?: number;
    bandwidthDownBps?: number;
  } | null;
  reputation: { valid: number; invalid: number; streak: number } | null;
};

export type Notifications = {
  pausedForBatteryOrHeat: boolean;
  coordinatorUnreachable: boolean;
  firstTokens: boolean;
  dailySummary: boolean;
};
export type Preferences = {
  autostart: boolean;
  /** null = the embedded local network. */
  coordinator: string | null;
  notifications: Notifications;
};

async function call<T>(name: string, args?: Record<string, unknown>): Promise<Result<T, AppError>> {
  try {
    return { status: "ok", data: await TAURI_INVOKE<T>(name, args) };
  } catch (e) {
    if (e instanceof Error) throw e;
    return { status: "error", error: e as AppError };
  }
}

export const commands = {
  async overview(): Promise<Result<Overview, AppError>> {
    return call("overview");
  },
  async setContributing(enabled: boolean): Promise<Result<Overview, AppError>> {
    return call("set_contributing", { enabled });
  },
  async snooze(hours: number): Promise<Result<Overview, AppError>> {
    return call("snooze", { hours });
  },
  async snoozeUntilTomorrow(): Promise<Result<Overview, AppError>> {
    return call("snooze_until_tomorrow");
  },
  async earningsSeries(days: number): Promise<Result<EarningsPoint[], AppError>> {
    return call("earnings_series", { days });
  },
  async receipts(offset: number, limit: number): Promise<Result<ReceiptPage, AppError>> {
    return call("receipts", { offset, limit });
  },
  async verifyWallet(): Promise<Result<WalletCheck, AppError>> {
    return call("verify_wallet");
  },
  async exportReceipts(format: ExportFormat): Promise<Result<string, AppError>> {
    return call("export_receipts", { format });
  },
  async settings(): Promise<Result<Settings, AppError>> {
    return call("settings");
  },
  async saveSettings(settings: Settings): Promise<Result<Settings, AppError>> {
    return call("save_settings", { settings });
  },
  async nodeInfo(): Promise<Result<NodeInfo, AppError>> {
    return call("node_info");
  },
  async preferences(): Promise<Result<Preferences, AppError>> {
    return call("preferences");
  },
  async setPreferences(p: Preferences): Promise<Result<Preferences, AppError>> {
    return call("set_preferences", { p });
  },
};

export const events = {
  overviewChanged: {
    listen(handler: (event: { payload: Overview }) => void): Promise<UnlistenFn> {
      return TAURI_LISTEN<Overview>("overview-changed", handler);
    },
  },
};
