// What the Settings page shows for each setting: label, unit, help, grouped into cards.
// Meanings and defaults follow crates/node/src/settings.rs.

import type { Notifications } from "../api";
import { formatBytes, formatDuration } from "./format";
import type { NumericKey } from "./settingsRules";

export type NumberField = {
  kind: "number";
  key: NumericKey;
  label: string;
  unit: string;
  help: string;
  /** Shown in an empty optional field. */
  placeholder?: string;
  /** A friendlier reading of the value beside the field ("3 min", "10 GiB"). */
  hint?: (value: number) => string;
};

export type SwitchKey = "policy.pause_on_battery" | "policy.pause_on_fullscreen" | "budget.gpu_enabled";
export type SwitchField = { kind: "switch"; key: SwitchKey; label: string; help: string };
export type Field = NumberField | SwitchField;
export type FieldGroup = { id: string; title: string; intro: string; fields: Field[] };

const seconds = (v: number) => (v >= 60 ? formatDuration(v * 1000) : "");

export const FIELD_GROUPS: FieldGroup[] = [
  {
    id: "when",
    title: "When to contribute",
    intro: "Work runs only while you are away and your own programs are quiet.",
    fields: [
      {
        kind: "number",
        key: "policy.input_idle_secs",
        label: "Away after",
        unit: "s",
        help: "Keyboard and mouse idle this long before work starts.",
        hint: seconds,
      },
      {
        kind: "number",
        key: "policy.owner_cpu_pause_percent",
        label: "Pause when your CPU use is above",
        unit: "%",
        help: "Your programs' share of the CPU that counts as busy.",
      },
      {
        kind: "number",
        key: "policy.owner_cpu_pause_after_secs",
        label: "…for at least",
        unit: "s",
        help: "How long your programs must stay busy before work pauses.",
        hint: seconds,
      },
      {
        kind: "number",
        key: "policy.owner_cpu_resume_percent",
        label: "Resume when your CPU use is below",
        unit: "%",
        help: "Not above the pause threshold, so work does not flap on and off.",
      },
      {
        kind: "number",
        key: "policy.owner_cpu_resume_after_secs",
        label: "…for at least",
        unit: "s",
        help: "How long your programs must stay quiet before work resumes.",
        hint: seconds,
      },
      {
        kind: "number",
        key: "policy.min_free_memory_percent",
        label: "Keep free memory of at least",
        unit: "%",
        help: "Pause when less memory is free; resume 5 points above.",
      },
      {
        kind: "switch",
        key: "policy.pause_on_battery",
        label: "Pause on battery",
        help: "Contribute only on mains power.",
      },
      {
        kind: "switch",
        key: "policy.pause_on_fullscreen",
        label: "Pause for full-screen apps",
        help: "Games, videos and presentations keep the whole machine.",
      },
    ],
  },
  {
    id: "heat",
    title: "Temperature",
    intro: "Work pauses when the machine runs hot. Unknown temperatures never pause.",
    fields: [
      {
        kind: "number",
        key: "policy.cpu_max_celsius",
        label: "CPU limit",
        unit: "°C",
        help: "Pause when the CPU is hotter than this.",
      },
      {
        kind: "number",
        key: "policy.gpu_max_celsius",
        label: "GPU limit",
        unit: "°C",
        help: "Pause when any GPU is hotter than this.",
      },
      {
        kind: "number",
        key: "policy.thermal_resume_margin_celsius",
        label: "Cool down by",
        unit: "°C",
        help: "After a heat pause, resume only this far below the limit.",
      },
    ],
  },
  {
    id: "budget",
    title: "How much to share",
    intro: "What work may use while it runs. Work always runs at the lowest priority.",
    fields: [
      {
        kind: "number",
        key: "budget.max_cores",
        label: "Cores",
        unit: "cores",
        help: "Empty: all but one (at least one).",
        placeholder: "All but one",
      },
      {
        kind: "number",
        key: "budget.max_cpu_percent_per_core",
        label: "Share of each core",
        unit: "%",
        help: "How hard work may drive each core it gets.",
      },
      {
        kind: "number",
        key: "budget.max_memory_percent",
        label: "Memory",
        unit: "%",
        help: "Ceiling for work, as a share of total memory.",
      },
      {
        kind: "switch",
        key: "budget.gpu_enabled",
        label: "Use the GPU",
        help: "GPU work runs only while you are away.",
      },
      {
        kind: "number",
        key: "budget.upload_cap_kib_per_sec",
        label: "Upload limit",
        unit: "KiB/s",
        help: "Empty: no limit.",
        placeholder: "No limit",
        hint: (v) => formatBytes(v * 1024) + "/s",
      },
      {
        kind: "number",
        key: "budget.download_cap_kib_per_sec",
        label: "Download limit",
        unit: "KiB/s",
        help: "Empty: no limit.",
        placeholder: "No limit",
        hint: (v) => formatBytes(v * 1024) + "/s",
      },
      {
        kind: "number",
        key: "budget.cache_disk_quota_mib",
        label: "Cache disk space",
        unit: "MiB",
        help: "Space for cached content others fetch. 0 turns the cache off.",
        hint: (v) => (v === 0 ? "No cache" : formatBytes(v * 1024 * 1024)),
      },
    ],
  },
];

export const SCHEDULES = [
  {
    which: "compute" as const,
    title: "Compute work",
    help: "When compute work may run. Outside these times the node pauses.",
  },
  {
    which: "network" as const,
    title: "Cache serving",
    help: "When this computer may serve and fill cached content (network work).",
  },
];

export const NOTIFICATION_FIELDS: { key: keyof Notifications; label: string; help: string }[] = [
  {
    key: "pausedForBatteryOrHeat",
    label: "Paused for battery or heat",
    help: "Tell me when work pauses because of the battery or temperature.",
  },
  {
    key: "coordinatorUnreachable",
    label: "Coordinator unreachable",
    help: "Tell me when the coordinator cannot be reached.",
  },
  { key: "firstTokens", label: "First tokens", help: "Tell me when the first tokens arrive." },
  { key: "dailySummary", label: "Daily summary", help: "One note a day with what was earned." },
];

/** Whether the Settings page has a place to show an error for this key. */
export function isFormFieldKey(key: string): boolean {
  if (/^schedule\.(compute|network)(\.\d+)?$/.test(key)) return true;
  if (key === "preferences.coordinator" || key === "preferences.autostart") return true;
  return FIELD_GROUPS.some((group) => group.fields.some((field) => field.key === key));
}
