// Weekly schedule windows such as "mon-fri 18:00-08:00", parsed and written exactly as the
// node does (crates/node/src/policy/schedule.rs), plus the editor's per-rule model.
//
// A window is a set of start days plus a start and end time; an end earlier than the start
// crosses midnight and belongs to the start day. A schedule is a list of windows, open when
// any is open; an empty list is never open.

export const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export const DAY_LABELS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
export const MINUTES_PER_DAY = 1440;

/** A parsed window. `days[0]` is Monday; `endMinute` is 1–1440. */
export type ScheduleWindow = { days: boolean[]; startMinute: number; endMinute: number };

/** Why a text is not a window; the messages are the node's. */
export type ScheduleError =
  | { kind: "shape" }
  | { kind: "unknownDay"; text: string }
  | { kind: "badTime"; text: string }
  | { kind: "emptyWindow" }
  | { kind: "noDays" };

export function scheduleErrorMessage(error: ScheduleError): string {
  switch (error.kind) {
    case "shape":
      return "expected `DAYS HH:MM-HH:MM`, for example `mon-fri 18:00-08:00`";
    case "unknownDay":
      return `\`${error.text}\` is not a day (use mon, tue, wed, thu, fri, sat, sun)`;
    case "badTime":
      return `\`${error.text}\` is not a time (use HH:MM from 00:00 to 24:00; 24:00 only as the end)`;
    case "emptyWindow":
      return "start and end are the same; use 00:00-24:00 for a whole day";
    case "noDays":
      return "pick at least one day";
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ScheduleError };

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
  return (DAY_NAMES as readonly string[]).indexOf(name.toLowerCase());
}

/** "mon-fri,sun" to seven flags, Monday first; a range may wrap ("sat-mon"). */
export function parseDays(text: string): Parsed<boolean[]> {
  const days = [false, false, false, false, false, false, false];
  for (const item of text.split(",")) {
    const dash = item.indexOf("-");
    const [first, last] = dash < 0 ? [item, item] : [item.slice(0, dash), item.slice(dash + 1)];
    const a = dayIndex(first);
    if (a < 0) return { ok: false, error: { kind: "unknownDay", text: first } };
    const b = dayIndex(last);
    if (b < 0) return { ok: false, error: { kind: "unknownDay", text: last } };
    for (let day = a; ; day = (day + 1) % 7) {
      days[day] = true;
      if (day === b) break;
    }
  }
  return { ok: true, value: days };
}

/** Parses "DAYS HH:MM-HH:MM" with the node's rules and in its order of checks. */
export function parseWindow(text: string): Parsed<ScheduleWindow> {
  const parts = text.split(/\s+/).filter((p) => p.length > 0);
  if (parts.length !== 2) return { ok: false, error: { kind: "shape" } };
  const [daysText, times] = parts as [string, string];
  const dash = times.indexOf("-");
  if (dash < 0) return { ok: false, error: { kind: "shape" } };
  const start = times.slice(0, dash);
  const end = times.slice(dash + 1);
  const startMinute = parseTime(start);
  if (startMinute === null || startMinute >= MINUTES_PER_DAY) {
    return { ok: false, error: { kind: "badTime", text: start } };
  }
  let endMinute = parseTime(end);
  if (endMinute === null) return { ok: false, error: { kind: "badTime", text: end } };
  if (startMinute === endMinute) return { ok: false, error: { kind: "emptyWindow" } };
  // 00:00 as an end means the coming midnight, the same instant as 24:00.
  if (endMinute === 0) endMinute = MINUTES_PER_DAY;
  const days = parseDays(daysText);
  if (!days.ok) return days;
  return { ok: true, value: { days: days.value, startMinute, endMinute } };
}

/** Days as the node writes them: ranges, Monday first ("mon,wed-fri"). */
export function formatDays(days: boolean[]): string {
  const out: string[] = [];
  let day = 0;
  while (day < 7) {
    if (!days[day]) {
      day += 1;
      continue;
    }
    let last = day;
    while (last + 1 < 7 && days[last + 1]) last += 1;
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
  if (parsed.some((p) => p.ok && p.value.days.every(Boolean) && p.value.startMinute === 0 && p.value.endMinute === MINUTES_PER_DAY)) {
    return "Always";
  }
  return parsed.map((p, i) => (p.ok ? describeWindow(p.value) : texts[i])).join("; ");
}

// ---- The editor's model: one rule = day toggles and two time fields. ----

/** One rule being edited. Times are the text in the fields. */
export type RuleDraft = { days: boolean[]; start: string; end: string };

/** The rule a new row starts with: every day, all day. */
export function newRuleDraft(): RuleDraft {
  return { days: [true, true, true, true, true, true, true], start: "00:00", end: "24:00" };
}

/** A window's text as an editable rule; null when the text does not parse. */
export function ruleFromText(text: string): RuleDraft | null {
  const parsed = parseWindow(text);
  if (!parsed.ok) return null;
  const { days, startMinute, endMinute } = parsed.value;
  return { days: [...days], start: formatTime(startMinute), end: formatTime(endMinute) };
}

/** Checks a rule as the node would; the window on success. */
export function checkRule(rule: RuleDraft): Parsed<ScheduleWindow> {
  if (!rule.days.some(Boolean)) return { ok: false, error: { kind: "noDays" } };
  const start = rule.start.trim();
  const end = rule.end.trim();
  // Reuse the node's parser so a rule passes here exactly when it passes there.
  return parseWindow(`${formatDays(rule.days)} ${start}-${end}`);
}

/** The node's text for a rule, or an error message. */
export function ruleToText(rule: RuleDraft): { text: string } | { error: string } {
  const checked = checkRule(rule);
  return checked.ok ? { text: formatWindow(checked.value) } : { error: scheduleErrorMessage(checked.error) };
}
