import { describe, expect, it } from "vitest";
import { SETTINGS_RULES } from "../src/bindings";
import {
  DAY_NAMES,
  MINUTES_PER_DAY,
  crossesMidnight,
  describeDays,
  describeSchedule,
  describeWindow,
  formatWindow,
  newRuleDraft,
  parseTime,
  parseWindow,
  ruleFromText,
  ruleText,
  windowOfRule,
} from "../src/lib/schedule";

function canonical(text: string): string {
  const parsed = parseWindow(text);
  if (!parsed) throw new Error(`${text} cannot be read`);
  return formatWindow(parsed);
}

describe("parseWindow reads the node's windows", () => {
  it("takes its day names and its end of day from the node's exported rules", () => {
    expect(DAY_NAMES).toEqual(SETTINGS_RULES.schedule.day_names);
    expect(MINUTES_PER_DAY).toBe(SETTINGS_RULES.schedule.minutes_per_day);
  });

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

  // Why each is wrong is the node's to say (validate_settings); here they only cannot be read.
  it.each([
    [""],
    ["mon-fri"],
    ["mon-fri 18:00"],
    ["mon-fri 18:00-08:00 extra"],
    ["mon-fry 18:00-08:00"],
    ["monday 18:00-08:00"],
    [",mon 18:00-08:00"],
    ["mon 25:00-08:00"],
    ["mon 18:60-20:00"],
    ["mon 24:00-08:00"],
    ["mon 18:00-24:01"],
    ["mon 8-9"],
    ["mon +1:00-09:00"],
    ["mon 18:0-20:00"],
    ["mon 10:00-10:00"],
    ["mon 00:00-00:00"],
    ["xyz 25:00-08:00"],
  ])("%j cannot be read", (text) => {
    expect(parseWindow(text)).toBeNull();
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
    expect(night && crossesMidnight(night)).toBe(true);
    expect(day && crossesMidnight(day)).toBe(false);
  });
});

describe("schedules in words", () => {
  it("describes days, windows and whole schedules", () => {
    expect(describeDays([true, true, true, true, true, false, false])).toBe("Mon–Fri");
    expect(describeDays([true, false, true, true, true, false, false])).toBe("Mon, Wed–Fri");
    expect(describeDays([true, true, true, true, true, true, true])).toBe("Every day");
    const night = parseWindow("mon-fri 18:00-08:00");
    expect(night && describeWindow(night)).toBe("Mon–Fri, 18:00 to 08:00 the next day");
    const weekend = parseWindow("sat-sun 00:00-24:00");
    expect(weekend && describeWindow(weekend)).toBe("Sat–Sun, all day");
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
    expect(ruleText(rule!)).toBe("mon,wed-fri 18:00-08:00");
    expect(ruleFromText("mon 10:00-10:00")).toBeNull();
  });

  it("starts a new rule as always", () => {
    expect(ruleText(newRuleDraft())).toBe("mon-sun 00:00-24:00");
  });

  it("normalises hand-typed times and treats an end of 00:00 as midnight", () => {
    expect(ruleText({ days: [false, false, false, false, false, true, true], start: " 9:30", end: "00:00 " })).toBe(
      "sat-sun 09:30-24:00",
    );
  });

  it("hands a rule it cannot read to the node as typed, with no summary", () => {
    const all = [true, true, true, true, true, true, true];
    expect(windowOfRule({ days: Array(7).fill(false), start: "08:00", end: "09:00" })).toBeNull();
    expect(windowOfRule({ days: all, start: "24:00", end: "09:00" })).toBeNull();
    expect(windowOfRule({ days: all, start: "08:00", end: "8:00" })).toBeNull();
    expect(windowOfRule({ days: all, start: "", end: "09:00" })).toBeNull();
    expect(ruleText({ days: all, start: "08 00", end: "09:00" })).toBe("mon-sun 08 00-09:00");
    expect(ruleText({ days: all, start: "7", end: "9:00" })).toBe("mon-sun 7-9:00");
    expect(windowOfRule({ days: all, start: "7:00", end: "9:00" })).toEqual({
      days: all,
      startMinute: 420,
      endMinute: 540,
    });
  });
});
