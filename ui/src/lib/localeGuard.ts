// uPlot builds `new Intl.NumberFormat(navigator.language)` when its module loads. Under a
// POSIX locale (LANG unset or LANG=C, as in a bare Xvfb session or a minimal desktop)
// WebKitGTK reports navigator.language as "C", which is not a BCP 47 tag: the constructor
// throws a RangeError and the whole app fails to start on a blank window. main.ts imports
// this module first, so the language is made safe before uPlot is evaluated.

/** `language` when Intl accepts it as a locale, else "en-US". */
export function safeLanguage(language: string | undefined | null): string {
  if (!language) return "en-US";
  try {
    new Intl.NumberFormat(language);
    return language;
  } catch {
    return "en-US";
  }
}

/** Replaces an unusable `navigator.language` with "en-US"; returns the language now in force. */
export function guardNavigatorLanguage(nav: { language: string } | undefined): string | undefined {
  if (!nav) return undefined;
  const safe = safeLanguage(nav.language);
  if (safe !== nav.language) {
    try {
      Object.defineProperty(nav, "language", { value: safe, configurable: true });
    } catch {
      // A navigator that refuses the override: nothing more can be done here.
    }
  }
  return nav.language;
}

guardNavigatorLanguage(typeof navigator === "undefined" ? undefined : navigator);
