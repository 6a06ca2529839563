// The Settings page's form: node settings plus app preferences in one draft, checked as a
// whole, and split back into the two payloads on save. Numbers are checked here against the
// node's exported rule table; schedule windows by the node itself (validate_settings).

import type { Notifications, Preferences, SettingProblem, Settings } from "../api";
import { checkCoordinator, coordinatorPreference } from "./coordinatorAddress";
import { newRuleDraft, ruleFromText, ruleText, type RuleDraft } from "./schedule";
import {
  NODE_RULES,
  checkScheduleRules,
  fieldForServerKey,
  friendlyServerMessage,
  validateSettings,
  valueAt,
  type FieldErrors,
} from "./settingsRules";
import { defaultPreferences, defaultSettings } from "./settingsDefaults";

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

/**
 * Every problem the form finds by itself, keyed by field ("policy.input_idle_secs",
 * "schedule.compute.0", "preferences.coordinator"): numbers against the node's table, rules
 * with no day, the coordinator address. The node finds the rest (see `nodeCheck`).
 */
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

/**
 * The settings to ask the node about: the form's, except that a number the form already
 * flags is sent as its default (the node cannot even read "", 1.5 or -5; the form's own
 * message stands at that field).
 */
export function settingsToCheck(form: SettingsForm): Settings {
  const settings = formToPayloads(form).settings;
  const flagged = validateSettings(settings);
  const defaults = defaultSettings();
  for (const rule of NODE_RULES.ranges) {
    if (!flagged[rule.key]) continue;
    const [section, field] = rule.key.split(".") as ["policy" | "budget", string];
    (settings[section] as unknown as Record<string, unknown>)[field] = valueAt(defaults, rule.key);
  }
  return settings;
}

/** The node's problems with the schedule windows, at their fields and in the form's words.
 *  (Its range problems are the form's own, from the same table.) */
export function scheduleProblems(problems: SettingProblem[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = fieldForServerKey(problem.key);
    if (field.startsWith("schedule.") && !errors[field]) errors[field] = friendlyServerMessage(problem.message);
  }
  return errors;
}

/** The node's word on the form's schedules; `validate` is the validate_settings command.
 *  Shown under the form's own checks, which win at a shared field. */
export async function nodeCheck(
  form: SettingsForm,
  validate: (settings: Settings) => Promise<SettingProblem[]>,
): Promise<FieldErrors> {
  return scheduleProblems(await validate(settingsToCheck(form)));
}

function texts(rules: RuleDraft[]): string[] {
  return rules.map(ruleText);
}

/**
 * The two payloads to save. The backend keeps its own switch and snooze (the dashboard's and
 * the tray's) whatever `contribution` says. Call only when neither check found anything.
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
