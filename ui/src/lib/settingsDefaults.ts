// The node's and the app's defaults, for "Restore defaults" and the dev fake. The values are
// Rust's (DEFAULT_SETTINGS and DEFAULT_NOTIFICATIONS, exported into the generated bindings).

import type { Preferences, Settings } from "../api";
import { DEFAULT_NOTIFICATIONS, DEFAULT_SETTINGS } from "../bindings";

/** `T` with every `readonly` taken off, down to its arrays (the constants are `as const`). */
type Writable<T> = { -readonly [K in keyof T]: Writable<T[K]> };

export function defaultSettings(): Settings {
  // Checked: Rust's defaults must still fit the Settings type.
  const fresh: Settings = structuredClone(DEFAULT_SETTINGS) as Writable<typeof DEFAULT_SETTINGS>;
  return fresh;
}

/** The app's first-run preferences: start at login, the local network, every notification. */
export function defaultPreferences(): Preferences {
  return { autostart: true, coordinator: null, notifications: { ...DEFAULT_NOTIFICATIONS } };
}
