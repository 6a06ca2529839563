// The browser-only fake must keep behaving like the node where the UI depends on it.
import { describe, expect, it } from "vitest";
import { createFakeBackend } from "../src/dev/fakeBackend";
import { ApiError } from "../src/api";
import { defaultSettings } from "../src/lib/settingsDefaults";

const NOW = new Date(2025, 2, 12, 10, 0).getTime();
const fake = (flags = "") => createFakeBackend(new URLSearchParams(`frozen=1&${flags}`), () => NOW);

describe("dev fake backend", () => {
  it("starts contributing on the local network with a month of receipts", async () => {
    const backend = fake();
    const overview = await backend.overview();
    expect(overview.state).toBe("contributing");
    expect(overview.network.local).toBe(true);
    const page = await backend.receipts(0, 20);
    expect(page.items).toHaveLength(20);
    expect(page.total).toBeGreaterThan(100);
    expect(page.items[0]!.seq).toBeGreaterThan(page.items[1]!.seq);
    const sum = (await backend.receipts(0, page.total)).items.reduce((a, r) => a + r.amount, 0);
    expect(overview.tokens.total).toBe(sum);
  });

  it("pauses for the switch and the snooze, and tells listeners", async () => {
    const backend = fake();
    const seen: string[] = [];
    const stop = await backend.onOverview((o) => seen.push(`${o.state}:${o.reason}`));
    expect((await backend.setContributing(false)).state).toBe("paused");
    expect((await backend.setContributing(true)).state).toBe("contributing");
    const snoozed = await backend.snooze(2);
    expect(snoozed.snoozedUntilMs).toBe(NOW + 2 * 3_600_000);
    expect((await backend.snooze(0)).snoozedUntilMs).toBeNull();
    expect((await backend.snoozeUntilTomorrow()).snoozedUntilMs).toBe(new Date(2025, 2, 13, 8, 0).getTime());
    stop();
    expect(seen).toEqual([
      "paused:contributing is switched off",
      "contributing:you are away",
      "paused:snoozed",
      "contributing:you are away",
      "paused:snoozed",
    ]);
  });

  it("refuses bad settings with the node's key and message", async () => {
    const backend = fake();
    const settings = defaultSettings();
    settings.policy.owner_cpu_pause_percent = 120;
    await expect(backend.saveSettings(settings)).rejects.toMatchObject({
      error: { kind: "invalidSetting", key: "policy.owner_cpu_pause_percent", message: expect.stringContaining("1..=100") },
    });
    const ok = defaultSettings();
    ok.schedule.compute = ["mon-fri 18:00-08:00"];
    await expect(backend.saveSettings(ok)).resolves.toEqual(ok);
    await expect(backend.setPreferences({ ...(await backend.preferences()), coordinator: "nope" })).rejects.toBeInstanceOf(
      ApiError,
    );
  });

  it("follows its flags", async () => {
    expect((await fake("gpu=0").overview()).gauges.gpu).toBeNull();
    expect((await fake("remote=1").overview()).network.local).toBe(false);
    expect((await fake("state=offline").overview()).network.connected).toBe(false);
    expect((await fake("keyfile=1").nodeInfo()).keyStorage.keychain).toBe(false);
    expect((await fake("new=1").receipts(0, 20)).total).toBe(0);
    await expect(fake("fail=save").saveSettings(defaultSettings())).rejects.toMatchObject({
      error: { kind: "invalidSetting", key: "policy.input_idle_secs" },
    });
  });

  it("builds an earnings series that ends at the total", async () => {
    const backend = fake();
    const series = await backend.earningsSeries(7);
    expect(series[0]!.tMs).toBe(NOW - 7 * 86_400_000);
    expect(series[series.length - 1]!.cumulative).toBe((await backend.overview()).tokens.total);
  });
});
