// The app's pages, in sidebar order. The labels are the nav buttons' accessible names and
// the ids the `data-page` values the WebDriver tests look for.

export type Page = "dashboard" | "earnings" | "settings" | "node";

export const PAGES: { id: Page; label: string }[] = [
  { id: "dashboard", label: "Dashboard" },
  { id: "earnings", label: "Earnings" },
  { id: "settings", label: "Settings" },
  { id: "node", label: "Node" },
];

export function isPage(value: string): value is Page {
  return PAGES.some((p) => p.id === value);
}
