import { describe, expect, it } from "vitest";
import {
  checkRule,
  crossesMidnight,
  describeDays,
  describeSchedule,
  describeWindow,
  formatWindow,
  newRuleDraft,
  parseTime,
  parseWindow,
  ruleFromText,
  ruleToText,
  scheduleErrorMessage,
  type ScheduleError,
} from "../src/lib/schedule";

function canonical(text: string): string {
  const parsed = parseWindow(text);
  if (!parsed.ok) throw new Error(`${text}: ${scheduleErrorMessage(parsed.error)}`);
  return formatWindow(parsed.value);
}

describe("parseWindow mirrors the node's parser", () => {
  // The same table as crates/node/src/policy/schedule_tests.rs.
  it.each([
    ["mon-fri 18:00-08:00", "mon-fri 18:00-08:00"],
    ["sat-sun 00:00-24:00", "sat-sun 00:00-24:00"],
    ["Wed 9:30-17:00", "wed 09:30-17:00"],
    ["mon,wed,thu,fri 10:00-12:00", "mon,wed-fri 10:00-12:00"],
    ["sat-mon 22:00-00:00", "mon,sat-sun 22:00-24:00"],
    ["  sun   23:59-00:01 ", "sun 23:59-00:01"],
    ["mon-sun 00:00-24:00", "mon-sun 00:00-24:00"],
    ["MON-FRI 18:00-08:00", "mon-fri 18:00-08:00"],
    ["sun-sat 00:00-24:00", "mon-sun 00:00-24:00"],
  ])("%j → %j (and the canonical text reparses to itself)", (text, expected) => {
    expect(canonical(text)).toBe(expected);
    expect(canonical(expected)).toBe(expected);
  });

  const badTime = (text: string): ScheduleError => ({ kind: "badTime", text });
  it.each<[string, ScheduleError]>([
    ["", { kind: "shape" }],
    ["mon-fri", { kind: "shape" }],
    ["mon-fri 18:00", { kind: "shape" }],
    ["mon-fri 18:00-08:00 extra", { kind: "shape" }],
    ["mon-fry 18:00-08:00", { kind: "unknownDay", text: "fry" }],
    ["monday 18:00-08:00", { kind: "unknownDay", text: "monday" }],
    [",mon 18:00-08:00", { kind: "unknownDay", text: "" }],
    ["mon 25:00-08:00", badTime("25:00")],
    ["mon 18:60-20:00", badTime("18:60")],
    ["mon 24:00-08:00", badTime("24:00")],
    ["mon 18:00-24:01", badTime("24:01")],
    ["mon 8-9", badTime("8")],
    ["mon +1:00-09:00", badTime("+1:00")],
    ["mon 18:0-20:00", badTime("18:0")],
    ["mon 10:00-10:00", { kind: "emptyWindow" }],
    ["mon 00:00-00:00", { kind: "emptyWindow" }],
    // Times are checked before days, as in the node.
    ["xyz 25:00-08:00", badTime("25:00")],
  ])("%j is rejected", (text, error) => {
    expect(parseWindow(text)).toEqual({ ok: false, error });
  });

  it("reads times from 00:00 to 24:00 only", () => {
    expect(parseTime("00:00")).toBe(0);
    expect(parseTime("9:05")).toBe(545);
    expect(parseTime("24:00")).toBe(1440);
    expect(parseTime("24:01")).toBeNull();
    expect(parseTime("123:00")).toBeNull();
    expect(parseTime("12:5")).toBeNull();
    expect(parseTime("1200")).toBeNull();
    expect(parseTime(":00")).toBeNull();
    expect(parseTime("-1:00")).toBeNull();
  });

  it("says which windows cross midnight", () => {
    const night = parseWindow("mon-fri 18:00-08:00");
    const day = parseWindow("mon-fri 08:00-18:00");
    expect(night.ok && crossesMidnight(night.value)).toBe(true);
    expect(day.ok && crossesMidnight(day.value)).toBe(false);
  });

  it("words every error as the node does", () => {
    expect(scheduleErrorMessage({ kind: "shape" })).toContain("DAYS HH:MM-HH:MM");
    expect(scheduleErrorMessage({ kind: "unknownDay", text: "fry" })).toContain("`fry` is not a day");
    expect(scheduleErrorMessage({ kind: "badTime", text: "25:00" })).toContain("`25:00` is not a time");
    expect(scheduleErrorMessage({ kind: "emptyWindow" })).toContain("00:00-24:00");
    expect(scheduleErrorMessage({ kind: "noDays" })).toBe("pick at least one day");
  });
});

describe("schedules in words", () => {
  it("describes days, windows and whole schedules", () => {
    expect(describeDays([true, true, true, true, true, false, false])).toBe("Mon–Fri");
    expect(describeDays([true, false, true, true, true, false, false])).toBe("Mon, Wed–Fri");
    expect(describeDays([true, true, true, true, true, true, true])).toBe("Every day");
    const night = parseWindow("mon-fri 18:00-08:00");
    expect(night.ok && describeWindow(night.value)).toBe("Mon–Fri, 18:00 to 08:00 the next day");
    const weekend = parseWindow("sat-sun 00:00-24:00");
    expect(weekend.ok && describeWindow(weekend.value)).toBe("Sat–Sun, all day");
    expect(describeSchedule([])).toBe("Never");
    expect(describeSchedule(["mon-sun 00:00-24:00"])).toBe("Always");
    expect(describeSchedule(["mon-fri 18:00-08:00", "sat-sun 00:00-24:00"])).toBe(
      "Mon–Fri, 18:00 to 08:00 the next day; Sat–Sun, all day",
    );
  });
});

describe("the editor's rules", () => {
  it("turns node text into a rule and back", () => {
    const rule = ruleFromText("mon,wed-fri 18:00-08:00");
    expect(rule).toEqual({ days: [true, false, true, true, true, false, false], start: "18:00", end: "08:00" });
    expect(ruleToText(rule!)).toEqual({ text: "mon,wed-fri 18:00-08:00" });
    expect(ruleFromText("mon 10:00-10:00")).toBeNull();
  });

  it("starts a new rule as always", () => {
    expect(ruleToText(newRuleDraft())).toEqual({ text: "mon-sun 00:00-24:00" });
  });

  it("normalises hand-typed times and treats an end of 00:00 as midnight", () => {
    expect(ruleToText({ days: [false, false, false, false, false, true, true], start: " 9:30", end: "00:00 " })).toEqual({
      text: "sat-sun 09:30-24:00",
    });
  });

  it("flags each kind of bad rule", () => {
    const all = [true, true, true, true, true, true, true];
    expect(checkRule({ days: Array(7).fill(false), start: "08:00", end: "09:00" })).toEqual({
      ok: false,
      error: { kind: "noDays" },
    });
    expect(checkRule({ days: all, start: "24:00", end: "09:00" })).toEqual({
      ok: false,
      error: { kind: "badTime", text: "24:00" },
    });
    expect(checkRule({ days: all, start: "08:00", end: "8:00" })).toEqual({ ok: false, error: { kind: "emptyWindow" } });
    expect(checkRule({ days: all, start: "", end: "09:00" })).toEqual({ ok: false, error: { kind: "badTime", text: "" } });
    expect(checkRule({ days: all, start: "08 00", end: "09:00" })).toEqual({ ok: false, error: { kind: "shape" } });
    expect(ruleToText({ days: all, start: "7", end: "9:00" })).toEqual({
      error: "`7` is not a time (use HH:MM from 00:00 to 24:00; 24:00 only as the end)",
    });
  });
});
