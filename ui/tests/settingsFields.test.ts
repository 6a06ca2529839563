import { describe, expect, it } from "vitest";
import { FIELD_GROUPS, NOTIFICATION_FIELDS, isFormFieldKey } from "../src/lib/settingsFields";
import { NODE_RULES } from "../src/lib/settingsRules";
import { defaultPreferences, defaultSettings } from "../src/lib/settingsDefaults";

describe("the Settings page covers every setting", () => {
  const keys = FIELD_GROUPS.flatMap((g) => g.fields.map((f) => f.key));

  it("has a field for every policy and budget key of the node's settings", () => {
    const settings = defaultSettings();
    const expected = [
      ...Object.keys(settings.policy).map((k) => `policy.${k}`),
      ...Object.keys(settings.budget).map((k) => `budget.${k}`),
    ].sort();
    expect([...keys].sort()).toEqual(expected);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("gives every numeric field a range rule and every boolean a switch", () => {
    for (const group of FIELD_GROUPS) {
      for (const field of group.fields) {
        const value = (defaultSettings() as unknown as Record<string, Record<string, unknown>>)[
          field.key.split(".")[0]!
        ]![field.key.split(".")[1]!];
        if (field.kind === "number") {
          expect(NODE_RULES.ranges.some((r) => r.key === field.key), field.key).toBe(true);
          expect(value === null || typeof value === "number", field.key).toBe(true);
        } else {
          expect(typeof value, field.key).toBe("boolean");
        }
      }
    }
  });

  it("has a switch for every notification", () => {
    expect(NOTIFICATION_FIELDS.map((n) => n.key).sort()).toEqual(Object.keys(defaultPreferences().notifications).sort());
  });

  it("knows which server keys it can show at a field", () => {
    expect(isFormFieldKey("policy.input_idle_secs")).toBe(true);
    expect(isFormFieldKey("budget.gpu_enabled")).toBe(true);
    expect(isFormFieldKey("schedule.compute")).toBe(true);
    expect(isFormFieldKey("schedule.network.3")).toBe(true);
    expect(isFormFieldKey("preferences.coordinator")).toBe(true);
    expect(isFormFieldKey("contribution.enabled")).toBe(false);
    expect(isFormFieldKey("policy.unknown")).toBe(false);
  });

  it("shows friendly hints beside values", () => {
    const all = FIELD_GROUPS.flatMap((g) => g.fields);
    const hint = (key: string, v: number) => {
      const f = all.find((x) => x.key === key);
      return f && f.kind === "number" && f.hint ? f.hint(v) : undefined;
    };
    expect(hint("policy.input_idle_secs", 180)).toBe("3 min");
    expect(hint("policy.input_idle_secs", 30)).toBe("");
    expect(hint("budget.cache_disk_quota_mib", 10240)).toBe("10 GiB");
    expect(hint("budget.cache_disk_quota_mib", 0)).toBe("No cache");
    expect(hint("budget.upload_cap_kib_per_sec", 2048)).toBe("2 MiB/s");
  });
});
