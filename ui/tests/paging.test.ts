import { describe, expect, it } from "vitest";
import { pageInfo } from "../src/lib/paging";

describe("receipt paging", () => {
  it("labels the first, a middle and the last page", () => {
    expect(pageInfo(0, 20, 240)).toEqual({
      page: 1,
      pages: 12,
      hasPrevious: false,
      hasNext: true,
      previous: 0,
      next: 20,
      label: "1–20 of 240",
    });
    expect(pageInfo(40, 20, 240)).toMatchObject({ page: 3, previous: 20, next: 60, label: "41–60 of 240" });
    expect(pageInfo(220, 20, 235)).toMatchObject({ page: 12, pages: 12, hasNext: false, label: "221–235 of 235" });
  });

  it("handles nothing, one partial page and an offset past the end", () => {
    expect(pageInfo(0, 20, 0)).toMatchObject({ page: 1, pages: 1, hasPrevious: false, hasNext: false, label: "None" });
    expect(pageInfo(0, 20, 7)).toMatchObject({ pages: 1, hasNext: false, label: "1–7 of 7" });
    expect(pageInfo(500, 20, 45)).toMatchObject({ page: 3, label: "41–45 of 45", hasPrevious: true });
    expect(pageInfo(0, 20, 1234)).toMatchObject({ label: "1–20 of 1,234" });
  });
});
