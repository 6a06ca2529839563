// The one door to the backend. Inside Tauri it calls the generated bindings; in a plain
// browser (npm run dev, a static build opened for design review) it uses an in-memory fake
// backend loaded on demand from src/dev/. Components import types and calls from here only.

import { listen } from "@tauri-apps/api/event";
import { commands } from "./bindings";
import { ApiError, toAppError, type AppError } from "./lib/errors";

export { ApiError } from "./lib/errors";
export type { AppError } from "./lib/errors";

// ---- Types, derived from the commands' signatures so they follow the generated file
// whatever its type names are. ----

type Command = (...args: never[]) => Promise<unknown>;
/** What a command resolves to: a tauri-specta result object, or the bare value. */
type Answer<C extends Command> = Awaited<ReturnType<C>>;
/** A command's success value (the `data` of an ok result, or the bare value). */
type Ok<C extends Command> = Answer<C> extends infer R
  ? R extends { status: "ok"; data: infer T }
    ? T
    : R extends { status: "error" }
      ? never
      : R
  : never;
/** A command's typed error. */
type Err<C extends Command> = Answer<C> extends infer R ? (R extends { status: "error"; error: infer E } ? E : never) : never;

/** Fails to compile when the generated error type leaves the contract's `AppError`. */
type Fits<T extends true> = T;
export type GeneratedErrorFitsContract = Fits<[Err<typeof commands.overview>] extends [AppError] ? true : false>;
export type Overview = Ok<typeof commands.overview>;
export type ContributionState = Overview["state"];
export type PercentGauge = Overview["gauges"]["cpu"];
export type NetworkGauge = Overview["gauges"]["network"];
export type EarningsPoint = Ok<typeof commands.earningsSeries>[number];
export type ReceiptPage = Ok<typeof commands.receipts>;
export type Receipt = ReceiptPage["items"][number];
export type WalletCheck = Ok<typeof commands.verifyWallet>;
export type ExportFormat = Parameters<typeof commands.exportReceipts>[0];
export type Settings = Ok<typeof commands.settings>;
export type PolicySettings = Settings["policy"];
export type BudgetSettings = Settings["budget"];
export type ScheduleSettings = Settings["schedule"];
export type SettingProblem = Ok<typeof commands.validateSettings>[number];
export type NodeInfo = Ok<typeof commands.nodeInfo>;
export type Preferences = Ok<typeof commands.preferences>;
export type Notifications = Preferences["notifications"];

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
  /** Every problem the node finds in `settings` (saves nothing). */
  validateSettings(settings: Settings): Promise<SettingProblem[]>;
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

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

function isResult<T>(value: unknown): value is Result<T> {
  return (
    typeof value === "object" &&
    value !== null &&
    "status" in value &&
    (value.status === "ok" || value.status === "error") &&
    ("data" in value || "error" in value)
  );
}

/**
 * Unwraps a command's answer, turning every failure into an `ApiError`: an error result
 * (the command's `AppError`, or the free-form string Tauri rejects with for an unknown
 * command, a bad argument or an ACL denial) and a thrown `Error` alike.
 */
export async function settle<T>(answer: Promise<Result<T> | T>): Promise<T> {
  let value: Result<T> | T;
  try {
    value = await answer;
  } catch (e) {
    throw new ApiError(toAppError(e));
  }
  if (!isResult<T>(value)) return value;
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
  validateSettings: (settings) => settle(commands.validateSettings(settings)),
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
  validateSettings: async (settings) => (await backend()).validateSettings(settings),
  nodeInfo: async () => (await backend()).nodeInfo(),
  preferences: async () => (await backend()).preferences(),
  setPreferences: async (p) => (await backend()).setPreferences(p),
  onOverview: async (handler) => (await backend()).onOverview(handler),
};
