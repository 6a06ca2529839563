import { describe, expect, it } from "vitest";
import { guardNavigatorLanguage, safeLanguage } from "../src/lib/localeGuard";

describe("navigator.language guard (uPlot's Intl.NumberFormat at load)", () => {
  it("keeps real language tags and replaces POSIX locales", () => {
    expect(safeLanguage("en-US")).toBe("en-US");
    expect(safeLanguage("de")).toBe("de");
    expect(safeLanguage("C")).toBe("en-US");
    expect(safeLanguage("en_US.UTF-8")).toBe("en-US");
    expect(safeLanguage("")).toBe("en-US");
    expect(safeLanguage(undefined)).toBe("en-US");
  });

  it("overrides an accessor-backed navigator.language like WebKit's", () => {
    class FakeNavigator {
      get language(): string {
        return "C";
      }
    }
    const nav = new FakeNavigator();
    expect(guardNavigatorLanguage(nav)).toBe("en-US");
    expect(nav.language).toBe("en-US");
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
    const fine = new (class {
      get language(): string {
        return "fr-FR";
      }
    })();
    expect(guardNavigatorLanguage(fine)).toBe("fr-FR");
    expect(guardNavigatorLanguage(undefined)).toBeUndefined();
  });
});
