import { describe, expect, it } from "vitest";
import { defaultPreferences, defaultSettings } from "../src/lib/settingsDefaults";
import {
  formChanged,
  formFromBackend,
  formToPayloads,
  nodeCheck,
  notificationSwitches,
  scheduleProblems,
  settingsToCheck,
  validateForm,
} from "../src/lib/settingsForm";
import { KEY } from "./fixtures";

describe("settings form", () => {
  it("round-trips the backend's settings and preferences", () => {
    const settings = defaultSettings();
    settings.schedule.compute = ["mon-fri 18:00-08:00", "sat-sun 00:00-24:00"];
    settings.schedule.network = [];
    settings.budget.max_cores = 4;
    const form = formFromBackend(settings, defaultPreferences());
    expect(form.coordinator).toBe("");
    expect(form.compute).toHaveLength(2);
    expect(validateForm(form)).toEqual({});
    const { settings: saved, preferences } = formToPayloads(form);
    expect(saved).toEqual(settings);
    expect(preferences).toEqual(defaultPreferences());
  });

  it("does not share objects with what it was loaded from", () => {
    const settings = defaultSettings();
    const form = formFromBackend(settings, defaultPreferences());
    form.settings.policy.input_idle_secs = 5;
    expect(settings.policy.input_idle_secs).toBe(180);
  });

  it("leaves the switch and snooze to the backend, which keeps its own", async () => {
    const { createFakeBackend } = await import("../src/dev/fakeBackend");
    const backend = createFakeBackend(new URLSearchParams("frozen=1"));
    const form = formFromBackend(await backend.settings(), defaultPreferences());
    await backend.setContributing(false); // switched off while the form was open
    const saved = await backend.saveSettings(formToPayloads(form).settings);
    expect(saved.contribution.enabled).toBe(false);
    expect(saved.contribution).toEqual((await backend.settings()).contribution);
  });

  it("writes emptied optional fields as null and the coordinator trimmed", () => {
    const form = formFromBackend(defaultSettings(), defaultPreferences());
    (form.settings.budget as Record<string, unknown>).max_cores = undefined;
    (form.settings.budget as Record<string, unknown>).upload_cap_kib_per_sec = "";
    form.coordinator = ` ${KEY}@coord.example.org:7350 `;
    const { settings, preferences } = formToPayloads(form);
    expect(settings.budget.max_cores).toBeNull();
    expect(settings.budget.upload_cap_kib_per_sec).toBeNull();
    expect(preferences.coordinator).toBe(`${KEY}@coord.example.org:7350`);
  });

  it("collects setting, schedule and coordinator errors together", async () => {
    const { createFakeBackend } = await import("../src/dev/fakeBackend");
    const backend = createFakeBackend(new URLSearchParams("frozen=1"));
    const form = formFromBackend(defaultSettings(), defaultPreferences());
    form.settings.policy.cpu_max_celsius = 20;
    form.network[0]!.end = "00:00";
    form.coordinator = "example.org:7350";
    const fromNode = await nodeCheck(form, (s) => backend.validateSettings(s));
    expect(Object.keys({ ...fromNode, ...validateForm(form) }).sort()).toEqual([
      "policy.cpu_max_celsius",
      "preferences.coordinator",
      "schedule.network.0",
    ]);
    // The bad window goes to the node as typed, so its message can quote it.
    expect(formToPayloads(form).settings.schedule.network).toEqual(["mon-sun 00:00-00:00"]);
  });

  it("asks the node about schedules with the numbers the form already flags at their defaults", () => {
    const form = formFromBackend(defaultSettings(), defaultPreferences());
    (form.settings.policy as Record<string, unknown>).input_idle_secs = null;
    form.settings.policy.cpu_max_celsius = -5;
    form.settings.budget.max_memory_percent = 1.5;
    form.settings.budget.max_cores = 4;
    const sent = settingsToCheck(form);
    const defaults = defaultSettings();
    expect(sent.policy.input_idle_secs).toBe(defaults.policy.input_idle_secs);
    expect(sent.policy.cpu_max_celsius).toBe(defaults.policy.cpu_max_celsius);
    expect(sent.budget.max_memory_percent).toBe(defaults.budget.max_memory_percent);
    expect(sent.budget.max_cores).toBe(4);
  });

  it("takes only the node's schedule problems, at their fields, in the form's words", () => {
    expect(
      scheduleProblems([
        { key: "schedule.compute.1", message: '"mon 10:00-10:00": start and end are the same; use 00:00-24:00 for a whole day' },
        { key: "policy.cpu_max_celsius", message: "policy.cpu_max_celsius = 20 is out of range 40..=110" },
      ]),
    ).toEqual({ "schedule.compute.1": "Start and end are the same; use 00:00-24:00 for a whole day." });
  });

  it("notices changes but not contribution or schedule text", () => {
    const a = formFromBackend(defaultSettings(), defaultPreferences());
    const b = formFromBackend(defaultSettings(), defaultPreferences());
    expect(formChanged(a, b)).toBe(false);
    b.settings.contribution.enabled = false;
    expect(formChanged(a, b)).toBe(false);
    b.notifications.dailySummary = false;
    expect(formChanged(a, b)).toBe(true);
    const c = formFromBackend(defaultSettings(), defaultPreferences());
    c.compute[0]!.start = "08:00";
    expect(formChanged(a, c)).toBe(true);
  });
});

describe("notification switches", () => {
  it("fill a switch the backend left out with the app's default (on)", () => {
    expect(notificationSwitches({ firstTokens: false })).toEqual({
      pausedForBatteryOrHeat: true,
      coordinatorUnreachable: true,
      firstTokens: false,
      dailySummary: true,
    });
  });
});
