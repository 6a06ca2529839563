// Numbers in words: tokens, bytes, rates, durations, times. Pure and locale-independent,
// so what the tests check is what every owner sees.

/** Micro-tokens in one token. */
export const MICRO_PER_TOKEN = 1_000_000;

const DAY_SHORT = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_SHORT = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Digits grouped by thousands with commas: 1234567 → "1,234,567". */
export function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * How many decimals a token amount gets: 2 from one token up (as the tray shows it), and
 * below one token enough for three significant digits (at most 6, the micro-token).
 */
export function tokenDecimals(micro: number): number {
  const abs = Math.abs(micro);
  if (abs >= MICRO_PER_TOKEN) return 2;
  if (abs === 0) return 3;
  const magnitude = Math.floor(Math.log10(abs / MICRO_PER_TOKEN));
  return Math.min(6, Math.max(3, 2 - magnitude));
}

/**
 * Micro-tokens as tokens, in integer arithmetic (no float rounding surprises):
 * 0 → "0", 125 → "0.000125", 500000 → "0.5", 984371 → "0.984", 12345678 → "12.35",
 * 1234567890 → "1,234.57". Under one token: three significant digits, trailing zeros
 * dropped; from one token up always two decimals, so columns line up.
 */
export function formatTokens(micro: number): string {
  if (!Number.isFinite(micro)) return "–";
  const sign = micro < 0 ? "-" : "";
  const abs = Math.round(Math.abs(micro));
  let decimals = tokenDecimals(abs);
  let scaled = Math.round(abs / 10 ** (6 - decimals)); // in units of 10^-decimals tokens
  // 0.9996 rounds up to 1: give it the decimals of what it became.
  const rounded = scaled * 10 ** (6 - decimals);
  if (tokenDecimals(rounded) < decimals) {
    decimals = tokenDecimals(rounded);
    scaled = Math.round(abs / 10 ** (6 - decimals));
  }
  const whole = Math.floor(scaled / 10 ** decimals);
  let fraction = String(scaled % 10 ** decimals).padStart(decimals, "0");
  if (whole === 0) fraction = fraction.replace(/0+$/, "");
  const text = groupThousands(String(whole)) + (fraction ? `.${fraction}` : "");
  return text === "0" ? "0" : sign + text;
}

/** Bytes with binary units: "0 B", "512 B", "1.5 KiB", "10 GiB", "123 MiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // One decimal under 10 (trimmed when it is .0), none above.
  let text = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  // 1023.7 KiB rounds to "1024 KiB": show the next unit instead.
  if (text === "1024" && unit < units.length - 1) {
    text = "1";
    unit += 1;
  }
  return `${text} ${units[unit]}`;
}

/** Bytes per second: "0 B/s", "1.2 MiB/s". */
export function formatRate(bytesPerSec: number): string {
  const text = formatBytes(bytesPerSec);
  return text === "–" ? text : `${text}/s`;
}

/** A link speed in bits per second, as network speeds are quoted: 80000000 → "80 Mbit/s". */
export function formatBitRate(bitsPerSec: number): string {
  if (!Number.isFinite(bitsPerSec) || bitsPerSec < 0) return "–";
  const units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
  let value = bitsPerSec;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const text = value < 10 && unit > 0 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  return `${text} ${units[unit]}`;
}

/** A length of time, two units at most: "45 s", "5 min", "2 h 15 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  const secs = Math.max(0, Math.round(ms / 1000));
  if (secs < 60) return `${secs} s`;
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} min`;
  const hours = Math.floor(mins / 60);
  const restMins = mins % 60;
  if (hours < 24) return restMins ? `${hours} h ${restMins} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  const restHours = hours % 24;
  return restHours ? `${days} d ${restHours} h` : `${days} d`;
}

/** A whole percentage: 42.4 → "42%", clamped to 0–100. */
export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return "–";
  return `${Math.round(Math.min(100, Math.max(0, percent)))}%`;
}

/** A count with thousands grouped: 12345 → "12,345". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const sign = n < 0 ? "-" : "";
  return sign + groupThousands(String(Math.round(Math.abs(n))));
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local "HH:MM". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

function startOfLocalDay(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * A moment relative to now, in local time: "14:30" today, "tomorrow 08:00",
 * "yesterday 22:10", "Tue 14:30" within a week, else "3 Mar 2025 14:30".
 */
export function formatMoment(ms: number, nowMs: number): string {
  const dayMs = 86_400_000;
  const days = Math.round((startOfLocalDay(ms) - startOfLocalDay(nowMs)) / dayMs);
  const d = new Date(ms);
  const clock = formatClock(ms);
  if (days === 0) return clock;
  if (days === 1) return `tomorrow ${clock}`;
  if (days === -1) return `yesterday ${clock}`;
  if (Math.abs(days) < 7) return `${DAY_SHORT[d.getDay()]} ${clock}`;
  return `${d.getDate()} ${MONTH_SHORT[d.getMonth()]} ${d.getFullYear()} ${clock}`;
}

/** A local calendar date for axes and lists: "3 Mar". */
export function formatShortDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getDate()} ${MONTH_SHORT[d.getMonth()]}`;
}

/** The first characters of a long id, for tables: "mfrggzdfmz…". */
export function shortId(id: string, keep = 10): string {
  return id.length > keep + 1 ? `${id.slice(0, keep)}…` : id;
}

/** First letter in capitals: "you are away" → "You are away". */
export function capitalise(text: string): string {
  return text.length ? text[0]!.toUpperCase() + text.slice(1) : text;
}
