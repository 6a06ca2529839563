// Client-side checks on every setting, mirroring crates/node/src/settings/validate.rs:
// the same keys, the same ranges, the same "resume not above pause" rule, plus the schedule
// rules (parsed as the node parses them). Unlike the node, which stops at the first bad key,
// this returns every problem so each field can show its own message.

import type { Settings } from "../api";
import { checkRule, scheduleErrorMessage, type RuleDraft } from "./schedule";

/** Largest network cap in KiB/s (about 10 GB/s); above it, "uncapped" is meant. */
export const MAX_CAP_KIB_PER_SEC = 10_000_000;
/** Largest cache quota in MiB (16 TiB). */
export const MAX_CACHE_MIB = 16 * 1024 * 1024;
/** Most cores a setting may name. */
export const MAX_CORES = 65_536;

/** A numeric setting's allowed range; `optional` ones may be empty (null). */
export type RangeRule = { key: NumericKey; min: number; max: number; optional: boolean };

export type NumericKey =
  | "policy.input_idle_secs"
  | "policy.owner_cpu_pause_percent"
  | "policy.owner_cpu_pause_after_secs"
  | "policy.owner_cpu_resume_percent"
  | "policy.owner_cpu_resume_after_secs"
  | "policy.cpu_max_celsius"
  | "policy.gpu_max_celsius"
  | "policy.thermal_resume_margin_celsius"
  | "policy.min_free_memory_percent"
  | "budget.max_cores"
  | "budget.max_cpu_percent_per_core"
  | "budget.max_memory_percent"
  | "budget.upload_cap_kib_per_sec"
  | "budget.download_cap_kib_per_sec"
  | "budget.cache_disk_quota_mib";

/** The node's range table, in its order. */
export const RANGE_RULES: readonly RangeRule[] = [
  { key: "policy.input_idle_secs", min: 0, max: 24 * 60 * 60, optional: false },
  { key: "policy.owner_cpu_pause_percent", min: 1, max: 100, optional: false },
  { key: "policy.owner_cpu_pause_after_secs", min: 0, max: 3_600, optional: false },
  { key: "policy.owner_cpu_resume_percent", min: 0, max: 100, optional: false },
  { key: "policy.owner_cpu_resume_after_secs", min: 0, max: 86_400, optional: false },
  { key: "policy.cpu_max_celsius", min: 40, max: 110, optional: false },
  { key: "policy.gpu_max_celsius", min: 40, max: 110, optional: false },
  { key: "policy.thermal_resume_margin_celsius", min: 0, max: 30, optional: false },
  { key: "policy.min_free_memory_percent", min: 0, max: 90, optional: false },
  { key: "budget.max_cores", min: 1, max: MAX_CORES, optional: true },
  { key: "budget.max_cpu_percent_per_core", min: 1, max: 100, optional: false },
  { key: "budget.max_memory_percent", min: 1, max: 100, optional: false },
  { key: "budget.upload_cap_kib_per_sec", min: 1, max: MAX_CAP_KIB_PER_SEC, optional: true },
  { key: "budget.download_cap_kib_per_sec", min: 1, max: MAX_CAP_KIB_PER_SEC, optional: true },
  { key: "budget.cache_disk_quota_mib", min: 0, max: MAX_CACHE_MIB, optional: false },
];

export function rangeRule(key: NumericKey): RangeRule {
  const rule = RANGE_RULES.find((r) => r.key === key);
  if (!rule) throw new Error(`no range rule for ${key}`);
  return rule;
}

/**
 * Settings as the form holds them: numbers may be null (an empty field) or not whole
 * (typed by hand) until they are checked.
 */
export type SettingsDraft = Settings;

/** Field key ("policy.input_idle_secs", "schedule.compute.1") → message. */
export type FieldErrors = Record<string, string>;

/** A section.key path's value in the settings. */
export function valueAt(settings: Settings, key: string): unknown {
  const [section, field] = key.split(".") as [string, string];
  const sectionValue = (settings as unknown as Record<string, Record<string, unknown>>)[section];
  return sectionValue?.[field];
}

/** Group digits for messages: 86400 → "86,400". */
function n(value: number): string {
  return value.toLocaleString("en-US");
}

/** The message for one number against its range, or null when it fits. */
export function checkNumber(value: unknown, rule: RangeRule): string | null {
  if (value === null || value === undefined || value === "") {
    return rule.optional ? null : "Enter a number.";
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return "Enter a number.";
  if (!Number.isInteger(value)) return "Enter a whole number.";
  if (value < rule.min || value > rule.max) return `Must be between ${n(rule.min)} and ${n(rule.max)}.`;
  return null;
}

/** Checks one schedule's rules; errors keyed "schedule.<which>.<index>". */
export function checkScheduleRules(which: "compute" | "network", rules: RuleDraft[]): FieldErrors {
  const errors: FieldErrors = {};
  rules.forEach((rule, index) => {
    const checked = checkRule(rule);
    if (!checked.ok) errors[`schedule.${which}.${index}`] = capitalised(scheduleErrorMessage(checked.error));
  });
  return errors;
}

function capitalised(text: string): string {
  return text.length ? text[0]!.toUpperCase() + text.slice(1) + (text.endsWith(".") ? "" : ".") : text;
}

/** Every problem in the numeric settings and the CPU hysteresis; {} when all is well. */
export function validateSettings(settings: Settings): FieldErrors {
  const errors: FieldErrors = {};
  for (const rule of RANGE_RULES) {
    const message = checkNumber(valueAt(settings, rule.key), rule);
    if (message) errors[rule.key] = message;
  }
  // Resuming above the pause threshold would defeat the hysteresis.
  const resume = settings.policy.owner_cpu_resume_percent;
  const pause = settings.policy.owner_cpu_pause_percent;
  if (
    !errors["policy.owner_cpu_resume_percent"] &&
    !errors["policy.owner_cpu_pause_percent"] &&
    resume > pause
  ) {
    errors["policy.owner_cpu_resume_percent"] = `Must not be above the pause threshold (${pause}%).`;
  }
  return errors;
}

/**
 * Where a server-side `invalidSetting` key belongs in the form. The node names keys as
 * written in the file ("policy.owner_cpu_pause_percent"); a schedule error may name the
 * list ("schedule.compute") or a rule ("schedule.compute.1", "schedule.compute[1]").
 */
export function fieldForServerKey(key: string): string {
  const trimmed = key.trim();
  const indexed = /^(schedule\.(?:compute|network))(?:\.|\[)(\d+)\]?$/.exec(trimmed);
  if (indexed) return `${indexed[1]}.${indexed[2]}`;
  if (/^(contribution|policy|budget|schedule)\./.test(trimmed)) return trimmed;
  const preference = /^(?:preferences\.)?(coordinator|autostart)$/.exec(trimmed);
  if (preference) return `preferences.${preference[1]}`;
  return trimmed;
}

/**
 * A node's validation message in the form's words, e.g.
 * "policy.owner_cpu_pause_percent = 120 is out of range 1..=100" → "Must be between 1 and 100.".
 * Messages of any other shape keep their words, as a sentence.
 */
export function friendlyServerMessage(message: string): string {
  const range = /is out of range (\d+)\.\.=(\d+)/.exec(message);
  if (range) return `Must be between ${n(Number(range[1]))} and ${n(Number(range[2]))}.`;
  const above = /must not be above ([a-z_.]+) = (\d+)/.exec(message);
  if (above) {
    return above[1] === "policy.owner_cpu_pause_percent"
      ? `Must not be above the pause threshold (${above[2]}%).`
      : `Must not be above ${above[1]} (${above[2]}).`;
  }
  // A schedule window's message quotes the window first: `"mon 25:00-01:00": ...`.
  const text = message.trim().replace(/^"[^"]*":\s*/, "");
  return text ? capitalised(text) : "The node did not accept this value.";
}
