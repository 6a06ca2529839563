// Weekly schedule windows such as "mon-fri 18:00-08:00", read and written for the editor
// and for summaries. Whether a window is valid is the node's to say (the validate_settings
// command, crates/node/src/policy/schedule.rs); the parts of the grammar used here (day
// names, 24:00) come from its exported SETTINGS_RULES.
//
// A window is a set of start days plus a start and end time; an end earlier than the start
// crosses midnight and belongs to the start day. A schedule is a list of windows, open when
// any is open; an empty list is never open.

import { SETTINGS_RULES } from "../bindings";

export const DAY_NAMES: readonly string[] = SETTINGS_RULES.schedule.day_names;
export const DAY_LABELS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
export const MINUTES_PER_DAY: number = SETTINGS_RULES.schedule.minutes_per_day;

/** A read window. `days[0]` is Monday; `endMinute` is 1–1440. */
export type ScheduleWindow = { days: boolean[]; startMinute: number; endMinute: number };

/** "HH:MM" to minutes after midnight, up to 24:00; null when it is not a time. */
export function parseTime(text: string): number | null {
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  const hours = text.slice(0, colon);
  const minutes = text.slice(colon + 1);
  const digits = (s: string) => /^[0-9]*$/.test(s);
  if (hours.length === 0 || hours.length > 2 || minutes.length !== 2 || !digits(hours) || !digits(minutes)) {
    return null;
  }
  const h = Number(hours);
  const m = Number(minutes);
  const total = h * 60 + m;
  return m < 60 && total <= MINUTES_PER_DAY ? total : null;
}

/** Minutes after midnight as "HH:MM" (1440 → "24:00"). */
export function formatTime(minute: number): string {
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

function dayIndex(name: string): number {
  return DAY_NAMES.indexOf(name.toLowerCase());
}

/** "mon-fri,sun" to seven flags, Monday first; a range may wrap ("sat-mon"). Null when a
 *  name is not a day. */
export function parseDays(text: string): boolean[] | null {
  const days = DAY_NAMES.map(() => false);
  for (const item of text.split(",")) {
    const dash = item.indexOf("-");
    const [first, last] = dash < 0 ? [item, item] : [item.slice(0, dash), item.slice(dash + 1)];
    const a = dayIndex(first);
    const b = dayIndex(last);
    if (a < 0 || b < 0) return null;
    for (let day = a; ; day = (day + 1) % DAY_NAMES.length) {
      days[day] = true;
      if (day === b) break;
    }
  }
  return days;
}

/** Reads "DAYS HH:MM-HH:MM" for display; null when it cannot be read (the node's
 *  validate_settings says why). */
export function parseWindow(text: string): ScheduleWindow | null {
  const parts = text.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length !== 2) return null;
  const [daysText, times] = parts as [string, string];
  const dash = times.indexOf("-");
  if (dash < 0) return null;
  const startMinute = parseTime(times.slice(0, dash));
  let endMinute = parseTime(times.slice(dash + 1));
  if (startMinute === null || endMinute === null || startMinute >= MINUTES_PER_DAY) return null;
  if (startMinute === endMinute) return null;
  // 00:00 as an end means the coming midnight, the same instant as 24:00.
  if (endMinute === 0) endMinute = MINUTES_PER_DAY;
  const days = parseDays(daysText);
  return days ? { days, startMinute, endMinute } : null;
}

/** Days as the node writes them: ranges, Monday first ("mon,wed-fri"). */
export function formatDays(days: boolean[]): string {
  const out: string[] = [];
  let day = 0;
  while (day < DAY_NAMES.length) {
    if (!days[day]) {
      day += 1;
      continue;
    }
    let last = day;
    while (last + 1 < DAY_NAMES.length && days[last + 1]) last += 1;
    out.push(last > day ? `${DAY_NAMES[day]}-${DAY_NAMES[last]}` : DAY_NAMES[day]!);
    day = last + 1;
  }
  return out.join(",");
}

/** The canonical text, identical to the node's `Display`: "mon,wed-fri 18:00-08:00". */
export function formatWindow(window: ScheduleWindow): string {
  return `${formatDays(window.days)} ${formatTime(window.startMinute)}-${formatTime(window.endMinute)}`;
}

/** Whether the window crosses midnight into the next day. */
export function crossesMidnight(window: ScheduleWindow): boolean {
  return window.endMinute < window.startMinute;
}

const DAY_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Days for people: "Every day", "Mon–Fri", "Mon, Wed–Fri", "Sat–Sun". */
export function describeDays(days: boolean[]): string {
  if (days.every(Boolean)) return "Every day";
  return formatDays(days)
    .split(",")
    .filter((part) => part.length > 0)
    .map((part) =>
      part
        .split("-")
        .map((name) => DAY_SHORT[dayIndex(name)])
        .join("–"),
    )
    .join(", ");
}

/** A window for people: "Mon–Fri, 18:00 to 08:00 the next day", "Every day, all day". */
export function describeWindow(window: ScheduleWindow): string {
  const days = describeDays(window.days);
  if (window.startMinute === 0 && window.endMinute === MINUTES_PER_DAY) return `${days}, all day`;
  const next = crossesMidnight(window) ? " the next day" : "";
  return `${days}, ${formatTime(window.startMinute)} to ${formatTime(window.endMinute)}${next}`;
}

/** A whole schedule in a few words. */
export function describeSchedule(texts: string[]): string {
  if (texts.length === 0) return "Never";
  const parsed = texts.map(parseWindow);
  if (parsed.some((p) => p && p.days.every(Boolean) && p.startMinute === 0 && p.endMinute === MINUTES_PER_DAY)) {
    return "Always";
  }
  return parsed.map((p, i) => (p ? describeWindow(p) : texts[i])).join("; ");
}

// ---- The editor's model: one rule = day toggles and two time fields. ----

/** One rule being edited. Times are the text in the fields. */
export type RuleDraft = { days: boolean[]; start: string; end: string };

/** The rule a new row starts with: every day, all day. */
export function newRuleDraft(): RuleDraft {
  return { days: DAY_NAMES.map(() => true), start: "00:00", end: formatTime(MINUTES_PER_DAY) };
}

/** A window's text as an editable rule; null when the text cannot be read. */
export function ruleFromText(text: string): RuleDraft | null {
  const parsed = parseWindow(text);
  if (!parsed) return null;
  const { days, startMinute, endMinute } = parsed;
  return { days: [...days], start: formatTime(startMinute), end: formatTime(endMinute) };
}

/** The window a rule stands for, for its summary; null when it cannot be read. */
export function windowOfRule(rule: RuleDraft): ScheduleWindow | null {
  return parseWindow(ruleText(rule));
}

/** A rule as a window's text, for the node to check and keep: in the node's canonical
 *  form when it can be read, else as typed (so the node's message quotes it). */
export function ruleText(rule: RuleDraft): string {
  const text = `${formatDays(rule.days)} ${rule.start.trim()}-${rule.end.trim()}`;
  const window = parseWindow(text);
  return window ? formatWindow(window) : text;
}
