// The audit trail: events filtered by vault, kind and time, a page at a time.

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditEvent } from "@gen/wormvault/v1/audit_pb.js";
import { audit } from "./api";
import { field, h, replace } from "./dom";
import { hex, utc } from "./format";
import { run } from "./ui";

export function auditPanel(vault: string): HTMLElement {
  const vaultFilter = h("input", { type: "text", name: "audit-vault", value: vault, placeholder: "all vaults" });
  const kind = h("input", { type: "text", name: "audit-kind", placeholder: "e.g. LEGAL_HOLD_SET" });
  const since = h("input", { type: "datetime-local", name: "audit-since" });
  const until = h("input", { type: "datetime-local", name: "audit-until" });
  const pageSize = h("input", { type: "number", name: "audit-page-size", min: 1, max: 1000, value: 50 });
  const search = h("button", { type: "submit" }, "Search");
  const next = h("button", { type: "button", hidden: true }, "Next page");
  const rows = h("tbody", {});
  const status = h("div", { class: "status" });
  let token = "";

  async function load(reset: boolean): Promise<void> {
    if (reset) token = "";
    const resp = await audit.listAuditEvents({
      vault: vaultFilter.value.trim(),
      kind: kind.value.trim(),
      // datetime-local is the browser's local time; Date reads it so.
      since: since.value ? timestampFromDate(new Date(since.value)) : undefined,
      until: until.value ? timestampFromDate(new Date(until.value)) : undefined,
      pageSize: Number(pageSize.value) || 50,
      pageToken: token,
    });
    replace(rows, ...resp.events.map(eventRow));
    token = resp.nextPageToken;
    next.hidden = !token;
    replace(status, resp.events.length === 0 ? h("p", { class: "empty" }, "No events match.") : null);
  }

  const form = h(
    "form",
    {
      class: "toolbar",
      onsubmit: (ev) => {
        ev.preventDefault();
        void run(search, status, "Listing audit events", () => load(true));
      },
    },
    field("Vault", vaultFilter),
    field("Kind", kind),
    field("Since (local time)", since),
    field("Until (local time)", until),
    field("Page size", pageSize),
    search,
  );
  next.addEventListener("click", () => void run(next, status, "Listing audit events", () => load(false)));
  void run(search, status, "Listing audit events", () => load(true));
  return h(
    "section",
    { class: "panel", "data-testid": "audit-panel" },
    h("h3", {}, "Audit trail"),
    form,
    h("table", { class: "audit" }, h("thead", {}, h("tr", {}, ...["#", "Time (UTC)", "Kind", "Principal", "Vault", "Key", "Version", "Details", "SHA-256"].map((t) => h("th", {}, t)))), rows),
    next,
    status,
  );
}

function eventRow(e: AuditEvent): HTMLTableRowElement {
  const details = Object.entries(e.details)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return h(
    "tr",
    {},
    h("td", {}, e.sequence.toString()),
    h("td", {}, utc(e.time)),
    h("td", {}, e.kind),
    h("td", {}, e.principal),
    h("td", {}, e.vault),
    h("td", { class: "key" }, e.key),
    h("td", { class: "mono" }, e.versionId),
    h("td", { class: "details" }, details),
    h("td", { class: "mono", title: hex(e.sha256) }, hex(e.sha256).slice(0, 12) + "…"),
  );
}
