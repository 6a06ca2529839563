import { describe, expect, it } from "vitest";
import { SETTINGS_RULES } from "../src/bindings";
import { defaultSettings } from "../src/lib/settingsDefaults";
import {
  NODE_RULES,
  checkNumber,
  checkScheduleRules,
  fieldForServerKey,
  friendlyServerMessage,
  rangeRule,
  validateSettings,
  type SettingsRules,
} from "../src/lib/settingsRules";
import type { Settings } from "../src/api";

function withValue(key: string, value: unknown): Settings {
  const settings = defaultSettings();
  const [section, field] = key.split(".") as [string, string];
  (settings as unknown as Record<string, Record<string, unknown>>)[section]![field] = value;
  // Let the resume threshold reach its own maximum without tripping the hysteresis rule.
  if (key === "policy.owner_cpu_resume_percent") settings.policy.owner_cpu_pause_percent = 100;
  return settings;
}

// The node's table as the bindings carry it (generated from crates/node/src/settings/validate.rs;
// src-tauri's tests prove it is what the node enforces and that the bindings are current).
const NODE_RANGES = SETTINGS_RULES.ranges.map((r) => [r.key, r.min, r.max, r.optional] as const);

describe("validateSettings applies the node's exported rules", () => {
  it("uses the table from the generated bindings", () => {
    expect(NODE_RULES).toBe(SETTINGS_RULES);
    expect(NODE_RANGES.length).toBeGreaterThan(0);
  });

  it("accepts the node's defaults", () => {
    expect(validateSettings(defaultSettings())).toEqual({});
  });

  describe.each(NODE_RANGES)("%s in %d..=%d", (key, min, max, optional) => {
    it("accepts both ends of the range", () => {
      expect(validateSettings(withValue(key, min))[key]).toBeUndefined();
      expect(validateSettings(withValue(key, max))[key]).toBeUndefined();
    });

    it("rejects one past either end, naming the key", () => {
      const message = `Must be between ${min.toLocaleString("en-US")} and ${max.toLocaleString("en-US")}.`;
      if (min > 0) expect(validateSettings(withValue(key, min - 1))).toMatchObject({ [key]: message });
      expect(validateSettings(withValue(key, max + 1))).toMatchObject({ [key]: message });
    });

    it("rejects fractions, and empty unless optional", () => {
      expect(validateSettings(withValue(key, min + 0.5))[key]).toBe("Enter a whole number.");
      expect(validateSettings(withValue(key, null))[key]).toBe(optional ? undefined : "Enter a number.");
      expect(validateSettings(withValue(key, Number.NaN))[key]).toBe("Enter a number.");
    });
  });

  it("follows a changed table: a fake rule changes what the form accepts", () => {
    const fake: SettingsRules = {
      ...NODE_RULES,
      ranges: NODE_RULES.ranges.map((r) => (r.key === "policy.cpu_max_celsius" ? { ...r, min: 20, max: 60 } : r)),
      not_above: [],
    };
    const settings = defaultSettings();
    settings.policy.cpu_max_celsius = 85;
    expect(validateSettings(settings)).toEqual({});
    expect(validateSettings(settings, fake)).toEqual({ "policy.cpu_max_celsius": "Must be between 20 and 60." });
    settings.policy.cpu_max_celsius = 30;
    expect(validateSettings(settings, fake)).toEqual({});
    expect(validateSettings(settings)["policy.cpu_max_celsius"]).toBe("Must be between 40 and 110.");
    // Without the table's not-above rule, resume may pass pause.
    settings.policy.owner_cpu_resume_percent = 90;
    expect(validateSettings(settings, fake)).toEqual({});
    expect(rangeRule("policy.cpu_max_celsius", fake)).toMatchObject({ min: 20, max: 60 });
  });

  it("rejects a resume threshold above the pause threshold, at the resume field", () => {
    const settings = defaultSettings();
    settings.policy.owner_cpu_pause_percent = 30;
    settings.policy.owner_cpu_resume_percent = 31;
    expect(validateSettings(settings)).toEqual({
      "policy.owner_cpu_resume_percent": "Must not be above the pause threshold (30%).",
    });
    settings.policy.owner_cpu_resume_percent = 30;
    expect(validateSettings(settings)).toEqual({});
  });

  it("reports every bad key at once, and no hysteresis error over a range error", () => {
    const settings = defaultSettings();
    settings.policy.owner_cpu_pause_percent = 0;
    settings.policy.owner_cpu_resume_percent = 50;
    settings.budget.max_memory_percent = 101;
    expect(Object.keys(validateSettings(settings)).sort()).toEqual([
      "budget.max_memory_percent",
      "policy.owner_cpu_pause_percent",
    ]);
  });

  it("checks single numbers against a rule", () => {
    const rule = rangeRule("budget.max_cores");
    expect(checkNumber(undefined, rule)).toBeNull();
    expect(checkNumber("", rule)).toBeNull();
    expect(checkNumber("4", rule)).toBe("Enter a number.");
    expect(checkNumber(4, rule)).toBeNull();
    expect(() => rangeRule("policy.nope")).toThrow();
  });
});

describe("schedule rules in the form", () => {
  it("flags a rule with no day by list and index, and leaves the times to the node", () => {
    const all = [true, true, true, true, true, true, true];
    const errors = checkScheduleRules("compute", [
      { days: all, start: "18:00", end: "08:00" },
      { days: all, start: "18:00", end: "18:00" },
      { days: Array(7).fill(false), start: "18:00", end: "19:00" },
    ]);
    expect(errors).toEqual({
      "schedule.compute.2": "Pick at least one day.",
    });
  });
});

describe("server error keys find their field", () => {
  it.each([
    ["policy.owner_cpu_pause_percent", "policy.owner_cpu_pause_percent"],
    [" budget.max_cores ", "budget.max_cores"],
    ["schedule.compute", "schedule.compute"],
    ["schedule.network.2", "schedule.network.2"],
    ["schedule.compute[1]", "schedule.compute.1"],
    ["coordinator", "preferences.coordinator"],
    ["preferences.autostart", "preferences.autostart"],
    ["something.else", "something.else"],
  ])("%j → %j", (key, field) => {
    expect(fieldForServerKey(key)).toBe(field);
  });
});

describe("server messages in the form's words", () => {
  it.each([
    ["policy.owner_cpu_pause_percent = 120 is out of range 1..=100", "Must be between 1 and 100."],
    ["policy.input_idle_secs = 90000 is out of range 0..=86400", "Must be between 0 and 86,400."],
    [
      "policy.owner_cpu_resume_percent = 40 must not be above policy.owner_cpu_pause_percent = 30",
      "Must not be above the pause threshold (30%).",
    ],
    ["budget.x = 5 must not be above budget.y = 4", "Must not be above budget.y (4)."],
    ['bad schedule window "mon 25:00-01:00"', 'Bad schedule window "mon 25:00-01:00".'],
    ['"someday 25:00-26:00": `someday` is not a day (use mon, tue)', "`someday` is not a day (use mon, tue)."],
    [
      '"mon-sun 18:00-18:00": start and end are the same; use 00:00-24:00 for a whole day',
      "Start and end are the same; use 00:00-24:00 for a whole day.",
    ],
    ["Already a sentence.", "Already a sentence."],
    ["  ", "The node did not accept this value."],
  ])("%j → %j", (message, friendly) => {
    expect(friendlyServerMessage(message)).toBe(friendly);
  });
});
