import { describe, expect, it } from "vitest";
import { acceptedShare, describeNode } from "../src/lib/nodeView";
import type { NodeInfo } from "../src/api";
import { KEY, sampleOverview } from "./fixtures";

const INFO: NodeInfo = {
  nodeId: "nbswy3dpeb3w64tmmqqgc3tjmnqwy5dfmzxw4zlsonuw4z3bnrsa",
  keyStorage: { keychain: true, detail: "Secret Service" },
  coordinator: `${KEY}@coord.example.org:7350`,
  connection: "registered, heartbeat rtt 0.42 ms",
  benchmark: { cpuScore: 1843, bandwidthDownBps: 80_000_000 },
  reputation: { valid: 199, invalid: 1, streak: 120 },
};

describe("node page view", () => {
  it("shows benchmark rows only for measured values, in the node's units (links in bits per second)", () => {
    const view = describeNode(INFO, null);
    expect(view.benchmark).toEqual([
      { label: "CPU (one core)", value: "1,843 M ops/s" },
      { label: "Download", value: "80 Mbit/s" },
    ]);
    expect(describeNode({ ...INFO, benchmark: null }, null).benchmark).toEqual([]);
  });

  it("words the reputation and the accepted share", () => {
    expect(describeNode(INFO, null).reputation).toEqual({ valid: "199", invalid: "1", streak: "120", accepted: "99.5%" });
    expect(describeNode({ ...INFO, reputation: null }, null).reputation).toBeNull();
    expect(acceptedShare(0, 0)).toBe("–");
    expect(acceptedShare(5, 0)).toBe("100%");
    expect(acceptedShare(1999, 1)).toBe("99.9%");
    expect(acceptedShare(0, 3)).toBe("0.0%");
  });

  it("labels the network from the overview, else from the connection text", () => {
    expect(describeNode(INFO, sampleOverview()).networkLabel).toBe("Local network (built into this app)");
    const remote = sampleOverview({
      network: { local: false, coordinator: INFO.coordinator, connected: false, lastError: "refused" },
    });
    const view = describeNode(INFO, remote);
    expect(view.networkLabel).toBe("coord.example.org:7350");
    expect(view.connected).toBe(false);
    expect(view.lastError).toBe("refused");
    expect(describeNode(INFO, null).connected).toBe(true);
    expect(describeNode({ ...INFO, connection: "retrying in 8.0 s" }, null).connected).toBe(false);
    expect(describeNode(INFO, null).connection).toBe("Registered, heartbeat rtt 0.42 ms");
  });
});
