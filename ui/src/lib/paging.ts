// Paging through receipts: offsets, page numbers and the "1–20 of 240" label.

import { formatCount } from "./format";

export const RECEIPTS_PER_PAGE = 20;

export type PageInfo = {
  page: number;
  pages: number;
  hasPrevious: boolean;
  hasNext: boolean;
  previous: number;
  next: number;
  label: string;
};

export function pageInfo(offset: number, limit: number, total: number): PageInfo {
  const size = Math.max(1, Math.floor(limit));
  const count = Math.max(0, Math.floor(total));
  const pages = Math.max(1, Math.ceil(count / size));
  const start = Math.min(Math.max(0, Math.floor(offset)), (pages - 1) * size);
  const end = Math.min(start + size, count);
  return {
    page: Math.floor(start / size) + 1,
    pages,
    hasPrevious: start > 0,
    hasNext: end < count,
    previous: Math.max(0, start - size),
    next: start + size,
    label: count === 0 ? "None" : `${formatCount(start + 1)}–${formatCount(end)} of ${formatCount(count)}`,
  };
}
