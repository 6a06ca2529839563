// The node's defaults (crates/node/src/settings.rs), for "Restore defaults" and the dev fake.

import type { Preferences, Settings } from "../api";

export function defaultSettings(): Settings {
  return {
    contribution: { enabled: true, snooze_until_ms: null },
    policy: {
      input_idle_secs: 180,
      owner_cpu_pause_percent: 25,
      owner_cpu_pause_after_secs: 2,
      owner_cpu_resume_percent: 15,
      owner_cpu_resume_after_secs: 30,
      pause_on_battery: true,
      pause_on_fullscreen: true,
      cpu_max_celsius: 85,
      gpu_max_celsius: 80,
      thermal_resume_margin_celsius: 5,
      min_free_memory_percent: 10,
    },
    budget: {
      max_cores: null,
      max_cpu_percent_per_core: 100,
      max_memory_percent: 50,
      gpu_enabled: true,
      upload_cap_kib_per_sec: null,
      download_cap_kib_per_sec: null,
      cache_disk_quota_mib: 10 * 1024,
    },
    schedule: { compute: ["mon-sun 00:00-24:00"], network: ["mon-sun 00:00-24:00"] },
  };
}

/** The app's first-run preferences (src-tauri/src/preferences.rs: every notification on). */
export function defaultPreferences(): Preferences {
  return {
    autostart: true,
    coordinator: null,
    notifications: {
      pausedForBatteryOrHeat: true,
      coordinatorUnreachable: true,
      firstTokens: true,
      dailySummary: true,
    },
  };
}
