// The one door to the backend. Inside Tauri it calls the generated bindings; in a plain
// browser (npm run dev, a static build opened for design review) it uses an in-memory fake
// backend loaded on demand from src/dev/. Components import types and calls from here only.

import { listen } from "@tauri-apps/api/event";
import { commands } from "./bindings";
import type {
  AppError,
  EarningsPoint,
  ExportFormat,
  NodeInfo,
  Overview,
  Preferences,
  ReceiptPage,
  Result,
  Settings,
  WalletCheck,
} from "./bindings";
import { ApiError, toAppError } from "./lib/errors";

export type {
  AppError,
  BudgetSettings,
  ContributionState,
  EarningsPoint,
  ExportFormat,
  NetworkGauge,
  NodeInfo,
  Notifications,
  Overview,
  PercentGauge,
  PolicySettings,
  Preferences,
  Receipt,
  ReceiptPage,
  ScheduleSettings,
  Settings,
  WalletCheck,
} from "./bindings";
export { ApiError } from "./lib/errors";

/** Everything the UI asks of the backend; every call rejects with an `ApiError`. */
export interface Backend {
  overview(): Promise<Overview>;
  setContributing(enabled: boolean): Promise<Overview>;
  /** 0 hours ends a snooze. */
  snooze(hours: number): Promise<Overview>;
  snoozeUntilTomorrow(): Promise<Overview>;
  earningsSeries(days: number): Promise<EarningsPoint[]>;
  receipts(offset: number, limit: number): Promise<ReceiptPage>;
  verifyWallet(): Promise<WalletCheck>;
  /** Resolves to the path written. */
  exportReceipts(format: ExportFormat): Promise<string>;
  settings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<Settings>;
  nodeInfo(): Promise<NodeInfo>;
  preferences(): Promise<Preferences>;
  setPreferences(preferences: Preferences): Promise<Preferences>;
  /** Calls `handler` with each `overview-changed` payload; resolves to an unsubscribe. */
  onOverview(handler: (overview: Overview) => void): Promise<() => void>;
}

/** Whether this page runs inside the Tauri webview. */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** A generated command's answer: a tauri-specta `Result`, or the bare value. */
type Answer<T> = Result<T, AppError> | T;

function isResult<T>(value: Answer<T>): value is Result<T, AppError> {
  return (
    typeof value === "object" &&
    value !== null &&
    "status" in value &&
    (value.status === "ok" || value.status === "error") &&
    ("data" in value || "error" in value)
  );
}

/** Unwraps a command's answer, turning every failure into an `ApiError`. */
export async function settle<T>(answer: Promise<Answer<T>>): Promise<T> {
  let value: Answer<T>;
  try {
    value = await answer;
  } catch (e) {
    throw new ApiError(toAppError(e));
  }
  if (!isResult(value)) return value;
  if (value.status === "ok") return value.data;
  throw new ApiError(toAppError(value.error));
}

const tauriBackend: Backend = {
  overview: () => settle(commands.overview()),
  setContributing: (enabled) => settle(commands.setContributing(enabled)),
  snooze: (hours) => settle(commands.snooze(hours)),
  snoozeUntilTomorrow: () => settle(commands.snoozeUntilTomorrow()),
  earningsSeries: (days) => settle(commands.earningsSeries(days)),
  receipts: (offset, limit) => settle(commands.receipts(offset, limit)),
  verifyWallet: () => settle(commands.verifyWallet()),
  exportReceipts: (format) => settle(commands.exportReceipts(format)),
  settings: () => settle(commands.settings()),
  saveSettings: (settings) => settle(commands.saveSettings(settings)),
  nodeInfo: () => settle(commands.nodeInfo()),
  preferences: () => settle(commands.preferences()),
  setPreferences: (p) => settle(commands.setPreferences(p)),
  async onOverview(handler) {
    // The event name is fixed by the contract; listening directly keeps this independent
    // of how a generator names its event helpers.
    return listen<Overview>("overview-changed", (event) => handler(event.payload));
  },
};

let chosen: Promise<Backend> | null = null;

/** Replaces the backend (tests, the dev fake). */
export function useBackend(backend: Backend): void {
  chosen = Promise.resolve(backend);
}

function backend(): Promise<Backend> {
  if (!chosen) {
    chosen = inTauri()
      ? Promise.resolve(tauriBackend)
      : import("./dev/fakeBackend").then((m) => m.createFakeBackend(new URLSearchParams(location.search)));
  }
  return chosen;
}

/** The backend calls, each forwarded to the chosen backend. */
export const api: Backend = {
  overview: async () => (await backend()).overview(),
  setContributing: async (enabled) => (await backend()).setContributing(enabled),
  snooze: async (hours) => (await backend()).snooze(hours),
  snoozeUntilTomorrow: async () => (await backend()).snoozeUntilTomorrow(),
  earningsSeries: async (days) => (await backend()).earningsSeries(days),
  receipts: async (offset, limit) => (await backend()).receipts(offset, limit),
  verifyWallet: async () => (await backend()).verifyWallet(),
  exportReceipts: async (format) => (await backend()).exportReceipts(format),
  settings: async () => (await backend()).settings(),
  saveSettings: async (settings) => (await backend()).saveSettings(settings),
  nodeInfo: async () => (await backend()).nodeInfo(),
  preferences: async () => (await backend()).preferences(),
  setPreferences: async (p) => (await backend()).setPreferences(p),
  onOverview: async (handler) => (await backend()).onOverview(handler),
};
