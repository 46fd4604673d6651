// How values are shown: times in UTC (a retention date must read the same
// to every reviewer, wherever they sit), digests in hex, sizes in bytes.

import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { RetentionMode } from "@gen/wormvault/v1/types_pb.js";

/** utc formats a time as "2026-01-31 23:59:59Z", or "—" when absent. */
export function utc(t: Timestamp | Date | undefined): string {
  if (!t) return "—";
  const d = t instanceof Date ? t : timestampDate(t);
  if (d.getTime() <= 0) return "—";
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function bytes(n: bigint | number): string {
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(1)} ${units[i]} (${v} B)`;
}

/** mode names a retention mode as the API's REST form does: GOVERNANCE, COMPLIANCE. */
export function mode(m: RetentionMode): string {
  switch (m) {
    case RetentionMode.GOVERNANCE:
      return "GOVERNANCE";
    case RetentionMode.COMPLIANCE:
      return "COMPLIANCE";
    default:
      return "";
  }
}
