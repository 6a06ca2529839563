// The Settings page's form: node settings plus app preferences in one draft, checked as a
// whole, and split back into the two payloads on save.

import type { Notifications, Preferences, Settings } from "../api";
import { checkCoordinator, coordinatorPreference } from "./coordinatorAddress";
import { newRuleDraft, ruleFromText, ruleToText, type RuleDraft } from "./schedule";
import { checkScheduleRules, validateSettings, type FieldErrors } from "./settingsRules";
import { defaultPreferences } from "./settingsDefaults";

export type SettingsForm = {
  /** contribution/policy/budget as edited; its schedule lists are ignored (see below). */
  settings: Settings;
  compute: RuleDraft[];
  network: RuleDraft[];
  coordinator: string;
  autostart: boolean;
  /** Every switch a boolean, whatever the bindings leave optional. */
  notifications: Required<Notifications>;
};

/** A deep copy good enough for plain JSON data. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function drafts(texts: string[]): RuleDraft[] {
  // The node only ever hands out texts it parsed, so a failure here is a stand-in rule
  // (no days) that the form flags rather than a silent change.
  return texts.map((text) => ruleFromText(text) ?? { ...newRuleDraft(), days: Array(7).fill(false) });
}

export function formFromBackend(settings: Settings, preferences: Preferences): SettingsForm {
  return {
    settings: copy(settings),
    compute: drafts(settings.schedule.compute),
    network: drafts(settings.schedule.network),
    coordinator: preferences.coordinator ?? "",
    autostart: preferences.autostart,
    notifications: notificationSwitches(preferences.notifications),
  };
}

/** The notification switches, a missing one at the app's default (Rust's `serde(default)`). */
export function notificationSwitches(notifications: Partial<Notifications>): Required<Notifications> {
  const defaults = defaultPreferences().notifications as Required<Notifications>;
  return {
    pausedForBatteryOrHeat: notifications.pausedForBatteryOrHeat ?? defaults.pausedForBatteryOrHeat,
    coordinatorUnreachable: notifications.coordinatorUnreachable ?? defaults.coordinatorUnreachable,
    firstTokens: notifications.firstTokens ?? defaults.firstTokens,
    dailySummary: notifications.dailySummary ?? defaults.dailySummary,
  };
}

/** Every problem in the form, keyed by field ("policy.input_idle_secs", "schedule.compute.0", "preferences.coordinator"). */
export function validateForm(form: SettingsForm): FieldErrors {
  const errors: FieldErrors = {
    ...validateSettings(form.settings),
    ...checkScheduleRules("compute", form.compute),
    ...checkScheduleRules("network", form.network),
  };
  const coordinator = checkCoordinator(form.coordinator);
  if (coordinator) errors["preferences.coordinator"] = coordinator;
  return errors;
}

function texts(rules: RuleDraft[]): string[] {
  return rules.map((rule) => {
    const result = ruleToText(rule);
    if ("error" in result) throw new Error(result.error);
    return result.text;
  });
}

/**
 * The two payloads to save. The backend keeps its own switch and snooze (the dashboard's and
 * the tray's) whatever `contribution` says. Call only when `validateForm` found nothing.
 */
export function formToPayloads(form: SettingsForm): { settings: Settings; preferences: Preferences } {
  const settings: Settings = {
    contribution: { ...form.settings.contribution },
    policy: { ...form.settings.policy },
    budget: { ...form.settings.budget },
    schedule: { compute: texts(form.compute), network: texts(form.network) },
  };
  // An emptied optional field is null, never undefined or "".
  for (const key of ["max_cores", "upload_cap_kib_per_sec", "download_cap_kib_per_sec"] as const) {
    const value = settings.budget[key] as unknown;
    if (value === undefined || value === "" || value === null) settings.budget[key] = null;
  }
  return {
    settings,
    preferences: {
      autostart: form.autostart,
      coordinator: coordinatorPreference(form.coordinator),
      notifications: { ...form.notifications },
    },
  };
}

/** Whether the form differs from what was loaded (for the Save button's hint). */
export function formChanged(a: SettingsForm, b: SettingsForm): boolean {
  const strip = (f: SettingsForm) => ({ ...f, settings: { ...f.settings, contribution: null, schedule: null } });
  return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
}
