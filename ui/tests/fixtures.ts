import type { Overview } from "../src/api";

export const KEY = "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3eovsq";

export function sampleOverview(overrides: Partial<Overview> = {}): Overview {
  return {
    state: "contributing",
    reason: "you are away",
    contributing: true,
    snoozedUntilMs: null,
    network: { local: true, coordinator: `${KEY}@127.0.0.1:7350`, connected: true, lastError: null },
    gauges: {
      cpu: { ownerPercent: 10, contributedPercent: 55 },
      memory: { ownerPercent: 40, contributedPercent: 12.4 },
      gpu: null,
      network: { ownerBytesPerSec: 256 * 1024, contributedBytesPerSec: 768 * 1024 },
    },
    jobs: { held: 2, reported: 1234, abandoned: 3 },
    tokens: { today: 1_250_000, total: 1_234_567_890 },
    cache: {
      usedBytes: 5 * 1024 ** 3,
      quotaBytes: 10 * 1024 ** 3,
      items: 42,
      servedBytes: 1536,
      earnedServing: 125,
    },
    ...overrides,
  };
}
