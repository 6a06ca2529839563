// The form's checks on the numeric settings, driven by the node's own rule table
// (SETTINGS_RULES, exported from crates/node/src/settings/validate.rs into the generated
// bindings): no range is written here. Schedule windows are checked by the node itself
// (the validate_settings command); see settingsForm.ts. Like the node, this returns every
// problem at once, so each field can show its own message.

import type { Settings } from "../api";
import { SETTINGS_RULES } from "../bindings";
import type { RuleDraft } from "./schedule";

/** The node's rules as the bindings carry them. */
export type SettingsRules = {
  ranges: readonly RangeRule[];
  not_above: readonly { key: string; bound_key: string }[];
  schedule: { day_names: readonly string[]; minutes_per_day: number };
};

/** A numeric setting's allowed range; `optional` ones may be empty (null). */
export type RangeRule = { key: string; min: number; max: number; optional: boolean };

/** The key of every numeric setting the node checks, from its table. */
export type NumericKey = (typeof SETTINGS_RULES.ranges)[number]["key"];

/** The node's table (the default for every check below; tests pass others). */
export const NODE_RULES: SettingsRules = SETTINGS_RULES;

export function rangeRule(key: string, rules: SettingsRules = NODE_RULES): RangeRule {
  const rule = rules.ranges.find((r) => r.key === key);
  if (!rule) throw new Error(`no range rule for ${key}`);
  return rule;
}

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

/** How a bounding setting is named in a message. */
function boundWords(boundKey: string, bound: string): string {
  return boundKey === "policy.owner_cpu_pause_percent"
    ? `the pause threshold (${bound}%)`
    : `${boundKey} (${bound})`;
}

/** Checks one schedule's rules for what only the form can get wrong (a rule with no day);
 *  the node checks the rest. Errors keyed "schedule.<which>.<index>". */
export function checkScheduleRules(which: "compute" | "network", rules: RuleDraft[]): FieldErrors {
  const errors: FieldErrors = {};
  rules.forEach((rule, index) => {
    if (!rule.days.some(Boolean)) errors[`schedule.${which}.${index}`] = "Pick at least one day.";
  });
  return errors;
}

function capitalised(text: string): string {
  return text.length ? text[0]!.toUpperCase() + text.slice(1) + (text.endsWith(".") ? "" : ".") : text;
}

/** Every problem in the numeric settings against `rules`; {} when all is well. A key out of
 *  its range is not also compared with another key (as in the node). */
export function validateSettings(settings: Settings, rules: SettingsRules = NODE_RULES): FieldErrors {
  const errors: FieldErrors = {};
  for (const rule of rules.ranges) {
    const message = checkNumber(valueAt(settings, rule.key), rule);
    if (message) errors[rule.key] = message;
  }
  for (const { key, bound_key } of rules.not_above) {
    if (errors[key] || errors[bound_key]) continue;
    const value = valueAt(settings, key) as number;
    const bound = valueAt(settings, bound_key) as number;
    if (value > bound) errors[key] = `Must not be above ${boundWords(bound_key, String(bound))}.`;
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
  if (above) return `Must not be above ${boundWords(above[1]!, above[2]!)}.`;
  // A schedule window's message quotes the window first: `"mon 25:00-01:00": ...`.
  const text = message.trim().replace(/^"[^"]*":\s*/, "");
  return text ? capitalised(text) : "The node did not accept this value.";
}
