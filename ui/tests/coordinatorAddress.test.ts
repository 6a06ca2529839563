import { describe, expect, it } from "vitest";
import {
  checkCoordinator,
  checkKey,
  coordinatorHostPort,
  coordinatorPreference,
  parseCoordinatorAddress,
} from "../src/lib/coordinatorAddress";

const KEY = "mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3eovsq";

describe("coordinator address KEY@HOST:PORT", () => {
  it("accepts DNS, IPv4 and bracketed IPv6 hosts", () => {
    expect(parseCoordinatorAddress(`${KEY}@coord.example.org:7350`)).toEqual({
      ok: true,
      value: { key: KEY, host: "coord.example.org", port: 7350 },
    });
    expect(parseCoordinatorAddress(`${KEY}@127.0.0.1:1`)).toMatchObject({ ok: true, value: { port: 1 } });
    expect(parseCoordinatorAddress(`${KEY}@[::1]:65535`)).toMatchObject({ ok: true, value: { host: "::1" } });
  });

  it("accepts the idleshare:// prefix, surrounding space and an upper-case key, as the node does", () => {
    expect(parseCoordinatorAddress(`  idleshare://${KEY}@localhost:9 `)).toMatchObject({ ok: true });
    expect(parseCoordinatorAddress(`${KEY.toUpperCase()}@localhost:9`)).toMatchObject({
      ok: true,
      value: { key: KEY },
    });
  });

  it.each([
    ["127.0.0.1:7350", "'@' is missing"],
    [`@127.0.0.1:7350`, "key before '@' is missing"],
    [`zzz@127.0.0.1:1`, "must be 52 characters long (it has 3)"],
    [`${KEY.slice(0, 51)}1@h:1`, "base32"],
    [`${KEY}x@h:1`, "52 characters long (it has 53)"],
    [`${KEY.slice(0, 51)}b@h:1`, "not a valid public key"],
    [`${KEY}@127.0.0.1`, "must end with :PORT"],
    [`${KEY}@127.0.0.1:0`, 'port "0"'],
    [`${KEY}@127.0.0.1:99999`, 'port "99999"'],
    [`${KEY}@127.0.0.1:-1`, 'port "-1"'],
    [`${KEY}@127.0.0.1:`, 'port ""'],
    [`${KEY}@:7350`, 'host "" is empty or malformed'],
    [`${KEY}@::1:7350`, "IPv6 host in brackets"],
    [`${KEY}@[::1]7350`, "must end with :PORT"],
    [`${KEY}@[::1:7350`, "malformed"],
    [`${KEY}@a b:1`, 'host "a b"'],
  ])("rejects %j", (text, fragment) => {
    const result = parseCoordinatorAddress(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(fragment);
  });

  it("treats empty as the local network", () => {
    expect(checkCoordinator("")).toBeNull();
    expect(checkCoordinator("   ")).toBeNull();
    expect(coordinatorPreference("  ")).toBeNull();
    expect(coordinatorPreference(` ${KEY}@h:1 `)).toBe(`${KEY}@h:1`);
    expect(checkCoordinator("nonsense")).toMatch(/KEY@HOST:PORT/);
  });

  it("checks keys on their own", () => {
    expect(checkKey(KEY)).toBeNull();
    expect(checkKey(KEY.slice(0, 51) + "a")).toBeNull();
    expect(checkKey("")).toMatch(/missing/);
  });

  it("shortens an address to host:port for labels", () => {
    expect(coordinatorHostPort(`${KEY}@coord.example.org:7350`)).toBe("coord.example.org:7350");
    expect(coordinatorHostPort(`${KEY}@[::1]:7350`)).toBe("[::1]:7350");
    expect(coordinatorHostPort("not an address")).toBe("not an address");
  });
});
