import { describe, expect, it } from "vitest";
import { reasonSentence, stateWord, toDashboardView } from "../src/lib/overviewView";
import { MIN_NETWORK_SCALE } from "../src/lib/gauges";
import { KEY, sampleOverview } from "./fixtures";

const NOW = new Date(2025, 2, 12, 10, 0).getTime();

describe("overview → dashboard view", () => {
  it("names each state and gives it a tone", () => {
    expect(stateWord("contributing")).toBe("Contributing");
    expect(stateWord("waiting")).toBe("Waiting");
    expect(stateWord("paused")).toBe("Paused");
    expect(stateWord("offline")).toBe("Offline");
    const tones = (["contributing", "waiting", "paused", "offline"] as const).map(
      (state) => toDashboardView(sampleOverview({ state }), NOW, 0).tone,
    );
    expect(tones).toEqual(["good", "wait", "paused", "offline"]);
  });

  it("turns the reason into a sentence", () => {
    expect(reasonSentence("you are using this computer (idle 3 s of 180 s needed)")).toBe(
      "You are using this computer (idle 3 s of 180 s needed).",
    );
    expect(reasonSentence("Done!")).toBe("Done!");
    expect(reasonSentence("  ")).toBe("");
  });

  it("shows tokens, jobs and cache in words", () => {
    const view = toDashboardView(sampleOverview(), NOW, 0);
    expect(view.stateWord).toBe("Contributing");
    expect(view.reason).toBe("You are away.");
    expect(view.tokens).toEqual({ today: "1.25", total: "1,234.57", todayMicro: 1_250_000, totalMicro: 1_234_567_890 });
    expect(view.jobs).toEqual({ held: "2", reported: "1,234", abandoned: "3" });
    expect(view.cache).toEqual({
      enabled: true,
      percent: 50,
      usedText: "5 GiB",
      quotaText: "10 GiB",
      items: "42",
      served: "1.5 KiB",
      earned: "0.000125",
    });
    expect(toDashboardView(sampleOverview({ cache: { ...sampleOverview().cache, quotaBytes: 0 } }), NOW, 0).cache.enabled).toBe(false);
  });

  it("labels the embedded local network and a real coordinator", () => {
    const local = toDashboardView(sampleOverview(), NOW, 0).network;
    expect(local.label).toBe("Local network");
    expect(local.local).toBe(true);
    expect(local.connectionText).toBe("Connected");
    const remote = toDashboardView(
      sampleOverview({
        network: { local: false, coordinator: `${KEY}@coord.example.org:7350`, connected: false, lastError: "timed out" },
      }),
      NOW,
      0,
    ).network;
    expect(remote.label).toBe("coord.example.org:7350");
    expect(remote.detail).toBe(`${KEY}@coord.example.org:7350`);
    expect(remote.connectionText).toBe("Not connected");
    expect(remote.error).toBe("timed out");
  });

  it("maps the gauges, with the GPU unavailable when null", () => {
    const view = toDashboardView(sampleOverview(), NOW, 4 * MIN_NETWORK_SCALE);
    const [cpu, gpu, memory, network] = view.gauges;
    expect(cpu).toMatchObject({ id: "cpu", available: true, ownerText: "10%", contributedText: "55%" });
    expect(cpu!.description).toBe("CPU: you use 10%, contributed 55%");
    expect(gpu).toMatchObject({ id: "gpu", available: false, ownerText: "–" });
    expect(memory).toMatchObject({ ownerText: "40%", contributedText: "12%" });
    expect(network).toMatchObject({ ownerText: "256 KiB/s", contributedText: "768 KiB/s" });
    expect(network!.shares.owner).toBeCloseTo(6.25);
    expect(network!.shares.contributed).toBeCloseTo(18.75);
    const withGpu = toDashboardView(
      sampleOverview({ gauges: { ...sampleOverview().gauges, gpu: { ownerPercent: 3, contributedPercent: 90 } } }),
      NOW,
      0,
    );
    expect(withGpu.gauges[1]).toMatchObject({ available: true, contributedText: "90%" });
  });

  it("describes an active snooze and ignores one that has ended", () => {
    const until = NOW + 2 * 3_600_000 + 5 * 60_000;
    const snoozed = toDashboardView(sampleOverview({ state: "paused", reason: "snoozed", snoozedUntilMs: until }), NOW, 0);
    expect(snoozed.snooze).toEqual({ active: true, text: "Snoozed until 12:05 (2 h 5 min left)" });
    expect(snoozed.reason).toBe("");
    const hot = toDashboardView(sampleOverview({ state: "paused", reason: "the CPU is too hot", snoozedUntilMs: until }), NOW, 0);
    expect(hot.reason).toBe("The CPU is too hot.");
    expect(toDashboardView(sampleOverview({ snoozedUntilMs: NOW - 1 }), NOW, 0).snooze.active).toBe(false);
  });
});
