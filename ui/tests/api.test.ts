import { describe, expect, expectTypeOf, it } from "vitest";
import { ApiError, api, settle, useBackend, type Backend } from "../src/api";
import { describeError, messageOf, toAppError } from "../src/lib/errors";
import { sampleOverview } from "./fixtures";

describe("settle unwraps command answers", () => {
  it("passes ok data and bare values through", async () => {
    await expect(settle(Promise.resolve({ status: "ok" as const, data: 5 }))).resolves.toBe(5);
    await expect(settle(Promise.resolve("/tmp/x.csv"))).resolves.toBe("/tmp/x.csv");
  });

  it("turns error results and rejections into ApiError with the typed error", async () => {
    const invalid = { kind: "invalidSetting" as const, key: "policy.cpu_max_celsius", message: "too hot" };
    const fromResult = settle(Promise.resolve({ status: "error" as const, error: invalid }));
    await expect(fromResult).rejects.toBeInstanceOf(ApiError);
    await expect(fromResult).rejects.toMatchObject({ error: invalid, message: "too hot" });
    await expect(settle(Promise.reject({ kind: "nodeNotRunning" }))).rejects.toMatchObject({
      error: { kind: "nodeNotRunning" },
    });
    await expect(settle(Promise.reject("command overview not found"))).rejects.toMatchObject({
      error: { kind: "io", message: "command overview not found" },
    });
  });
});

describe("errors in words", () => {
  it("describes every kind", () => {
    expect(describeError({ kind: "invalidSetting", key: "k", message: "" })).toBe("k is not valid");
    expect(describeError({ kind: "io", message: "disk full" })).toContain("disk full");
    expect(describeError({ kind: "wallet", message: "broken chain" })).toBe("Wallet problem: broken chain");
    expect(describeError({ kind: "nodeNotRunning" })).toBe("The node is not running.");
    expect(describeError({ kind: "autostart", message: "denied" })).toContain("start at login");
  });

  it("normalises whatever was thrown", () => {
    expect(toAppError(new Error("boom"))).toEqual({ kind: "io", message: "boom" });
    expect(toAppError({ kind: "other" })).toEqual({ kind: "io", message: '{"kind":"other"}' });
    expect(toAppError(new ApiError({ kind: "nodeNotRunning" }))).toEqual({ kind: "nodeNotRunning" });
    expect(messageOf(42)).toContain("42");
  });
});

describe("api forwards to the chosen backend", () => {
  it("uses a replaced backend", async () => {
    const overview = sampleOverview();
    const calls: string[] = [];
    const fake = new Proxy({} as Backend, {
      // Not a thenable: a backend is resolved through a promise.
      get: (_, name: string) =>
        name === "then"
          ? undefined
          : async (...args: unknown[]) => {
        calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(",")})`);
        return overview;
      },
    });
    useBackend(fake);
    await expect(api.overview()).resolves.toBe(overview);
    await api.snooze(2);
    await api.receipts(20, 20);
    expect(calls).toEqual(["overview()", "snooze(2)", "receipts(20,20)"]);
  });
});

describe("types derived from the bindings' commands", () => {
  it("are the contract's shapes, not never", () => {
    // Checked by `npm run check` (svelte-check type-checks the tests too).
    expectTypeOf<import("../src/api").Overview["state"]>().toEqualTypeOf<
      "contributing" | "waiting" | "paused" | "offline"
    >();
    expectTypeOf<import("../src/api").Settings["policy"]["input_idle_secs"]>().toEqualTypeOf<number>();
    expectTypeOf<import("../src/api").Receipt["amount"]>().toEqualTypeOf<number>();
    expectTypeOf<import("../src/api").ExportFormat>().toEqualTypeOf<"csv" | "json">();
    expectTypeOf<import("../src/api").Preferences["coordinator"]>().toEqualTypeOf<string | null>();
    expectTypeOf<import("../src/api").GeneratedErrorFitsContract>().toEqualTypeOf<true>();
  });
});
