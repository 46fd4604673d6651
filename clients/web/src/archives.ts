// The archive browser of one vault: keys and their versions with
// retention, legal holds and delete markers; per version: download,
// "why can't I delete this?", legal holds, and delete.

import type { Archive } from "@gen/wormvault/v1/types_pb.js";
import type { ExplainProtectionResponse } from "@gen/wormvault/v1/archive_pb.js";
import { archives, downloadArchive } from "./api";
import { append, field, h, replace } from "./dom";
import { bytes, hex, mode, utc } from "./format";
import { notice, run } from "./ui";

const pageSize = 100;

/** archivePanel renders the browser of vault into a new element. */
export function archivePanel(vault: string): HTMLElement {
  const prefix = h("input", { type: "search", name: "prefix", placeholder: "key prefix" });
  const allVersions = h("input", { type: "checkbox", name: "all-versions", checked: true });
  const refresh = h("button", { type: "submit" }, "Refresh");
  const rows = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const status = h("div", { class: "status" });
  const detail = h("div", { class: "detail", "data-testid": "detail" });
  let nextToken = "";

  const table = h(
    "table",
    { class: "archives", "data-testid": "archives" },
    h("thead", {}, h("tr", {}, ...["Key", "Version", "Size", "Created (UTC)", "Retention", "Legal holds", "State", ""].map((t) => h("th", {}, t)))),
    rows,
  );

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      nextToken = "";
      replace(rows);
    }
    const resp = await archives.listArchives({ vault, prefix: prefix.value, allVersions: allVersions.checked, pageSize, pageToken: nextToken });
    for (const a of resp.archives) rows.appendChild(row(a));
    nextToken = resp.nextPageToken;
    more.hidden = !nextToken;
    replace(status, rows.childElementCount === 0 ? h("p", { class: "empty" }, "No archives" + (prefix.value ? ` under "${prefix.value}"` : "") + ".") : null);
  }

  function row(a: Archive): HTMLTableRowElement {
    const r = a.retention;
    const retention = a.deleteMarker
      ? "—"
      : r && mode(r.mode)
        ? h("span", {}, h("span", { class: `mode ${mode(r.mode).toLowerCase()}` }, mode(r.mode)), " until ", h("time", { "data-testid": "retain-until" }, utc(r.retainUntilTime)), r.fromDefault ? " (vault default)" : "")
        : "none";
    const holds = a.legalHolds.length ? a.legalHolds.map((x) => x.holdId).join(", ") : a.legalHold ? "yes" : "—";
    const state = [a.isLatest ? "latest" : "", a.deleteMarker ? "delete marker" : ""].filter(Boolean).join(", ") || "older";
    const actions = h("td", { class: "actions" });
    if (!a.deleteMarker) {
      append(
        actions,
        h("button", { type: "button", onclick: (ev) => download(a, ev.currentTarget as HTMLButtonElement) }, "Download"),
        h("button", { type: "button", onclick: () => explain(a) }, "Why can't I delete this?"),
        h("button", { type: "button", onclick: () => showHolds(a) }, "Legal holds"),
      );
    }
    append(actions, h("button", { type: "button", class: "danger", onclick: () => confirmDelete(a) }, "Delete version"));
    return h(
      "tr",
      { "data-key": a.key, "data-version": a.versionId, class: a.deleteMarker ? "marker" : "" },
      h("td", { class: "key" }, a.key),
      h("td", { class: "mono" }, a.versionId),
      h("td", {}, a.deleteMarker ? "—" : bytes(a.sizeBytes)),
      h("td", {}, utc(a.createTime)),
      h("td", { "data-testid": "retention" }, retention),
      h("td", { "data-testid": "holds" }, holds),
      h("td", {}, state),
      actions,
    );
  }

  function download(a: Archive, button: HTMLButtonElement): Promise<void> {
    return run(button, detail, `Download of ${a.key}`, async () => {
      replace(detail, notice(`Downloading ${a.key} (${a.versionId})…`));
      const got = await downloadArchive(vault, a.key, a.versionId);
      // Bit-exactness, checked here too: the bytes received against the
      // digest recorded at upload.
      const digest = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", await got.blob.arrayBuffer())));
      const want = hex(a.sha256);
      if (digest !== want) {
        throw new Error(`downloaded bytes have SHA-256 ${digest}, the archive's is ${want}: not saved`);
      }
      const url = URL.createObjectURL(got.blob);
      const link = h("a", { href: url, download: a.key.split("/").pop() || "archive" });
      document.body.appendChild(link);
      link.click();
      link.remove();
      // The browser has taken the Blob by the time the click returns; the
      // URL is kept a moment for browsers that read it asynchronously.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      replace(detail, notice(`Downloaded ${a.key} (${bytes(got.blob.size)}), SHA-256 ${digest} verified.`));
    });
  }

  function explain(a: Archive): Promise<void> {
    return run(null, detail, `Explaining the protection of ${a.key}`, async () => {
      const resp = await archives.explainProtection({ vault, key: a.key, versionId: a.versionId });
      replace(detail, explanation(a, resp));
    });
  }

  function confirmDelete(a: Archive): void {
    const bypass = h("input", { type: "checkbox", name: "bypass-governance" });
    const confirm = h("button", { type: "button", class: "danger" }, "Confirm delete");
    const out = h("div", {});
    confirm.addEventListener("click", () =>
      run(confirm, out, `Delete of ${a.key} version ${a.versionId}`, async () => {
        await archives.deleteArchive({ vault, key: a.key, versionId: a.versionId, bypassGovernanceRetention: bypass.checked });
        replace(detail, notice(`Deleted version ${a.versionId} of ${a.key}.`));
        await load(true);
      }).then(() => {
        if (out.querySelector(".error")) append(out, h("button", { type: "button", onclick: () => explain(a) }, "Why can't I delete this?"));
      }),
    );
    replace(
      detail,
      h(
        "section",
        { class: "panel", "data-testid": "delete-panel" },
        h("h3", {}, `Delete version ${a.versionId} of ${a.key}?`),
        h("p", {}, "A version deleted by its id is gone for good. The server refuses while a retention or legal hold protects it."),
        field("Bypass GOVERNANCE retention (needs the permission to)", bypass),
        h("div", { class: "buttons" }, confirm, h("button", { type: "button", onclick: () => replace(detail) }, "Cancel")),
        out,
      ),
    );
  }

  function showHolds(a: Archive): void {
    const holdId = h("input", { type: "text", name: "hold-id", required: true, maxlength: 64, placeholder: "e.g. litigation-2026" });
    const reason = h("input", { type: "text", name: "hold-reason", placeholder: "why it is held" });
    const set = h("button", { type: "submit" }, "Set legal hold");
    const list = h("ul", { class: "holds" });
    const out = h("div", {});
    const section = h("section", { class: "panel", "data-testid": "holds-panel" }, h("h3", {}, `Legal holds on ${a.key} (${a.versionId})`), list);

    async function reload(): Promise<void> {
      const resp = await archives.getLegalHold({ vault, key: a.key, versionId: a.versionId });
      replace(list);
      if (resp.holds.length === 0) list.appendChild(h("li", {}, "No legal hold."));
      for (const x of resp.holds) {
        const release = h("button", { type: "button" }, "Release");
        release.addEventListener("click", () =>
          run(release, out, `Release of legal hold ${x.holdId}`, async () => {
            await archives.setLegalHold({ vault, key: a.key, versionId: a.versionId, legalHold: false, holdId: x.holdId });
            replace(out, notice(`Released legal hold ${x.holdId}.`));
            await reload();
            await load(true);
          }),
        );
        list.appendChild(h("li", { "data-hold": x.holdId }, h("strong", {}, x.holdId), ` — ${x.reason || "no reason given"}; set by ${x.setBy} at ${utc(x.setTime)} `, release));
      }
    }

    const form = h(
      "form",
      {
        class: "inline",
        onsubmit: (ev) => {
          ev.preventDefault();
          void run(set, out, `Legal hold ${holdId.value}`, async () => {
            await archives.setLegalHold({ vault, key: a.key, versionId: a.versionId, legalHold: true, holdId: holdId.value.trim(), reason: reason.value.trim() });
            replace(out, notice(`Legal hold ${holdId.value.trim()} set.`));
            await reload();
            await load(true);
          });
        },
      },
      field("Hold name", holdId),
      field("Reason", reason),
      set,
    );
    append(section, form, out);
    replace(detail, section);
    void run(null, out, "Reading the legal holds", reload);
  }

  const toolbar = h(
    "form",
    {
      class: "toolbar",
      onsubmit: (ev) => {
        ev.preventDefault();
        void run(refresh, status, "Listing archives", () => load(true));
      },
    },
    field("Prefix", prefix),
    field("All versions and delete markers", allVersions),
    refresh,
  );
  allVersions.addEventListener("change", () => void run(refresh, status, "Listing archives", () => load(true)));
  more.addEventListener("click", () => void run(more, status, "Listing archives", () => load(false)));
  void run(refresh, status, "Listing archives", () => load(true));
  return h("section", { class: "archive-browser" }, toolbar, table, more, status, detail);
}

const kindTitles: Record<string, string> = {
  RETENTION: "Retention",
  LEGAL_HOLD: "Legal hold",
  CLOCK_UNTRUSTED: "Untrusted clock",
  POLICY: "Policy statement",
  MFA_DELETE: "MFA delete",
};

/** explanation is the readable form of ExplainProtection's answer. */
function explanation(a: Archive, resp: ExplainProtectionResponse): HTMLElement {
  const el = h("section", { class: "panel explain", "data-testid": "explain-panel" }, h("h3", {}, `Why can't I delete ${a.key} (${resp.versionId})?`));
  if (resp.deletable) {
    append(el, h("p", { "data-testid": "deletable" }, "Nothing protects this version now: it can be deleted."));
    return el;
  }
  const list = h("ul", {});
  for (const p of resp.protections) {
    const facts: string[] = [];
    // The description already reads "GOVERNANCE retention (explicit) ...";
    // the facts add what it may leave out.
    const m = mode(p.retentionMode);
    if (m && !p.description.includes(m)) facts.push(`${m} retention${p.fromDefault ? " from the vault's default" : ""}`);
    if (p.holdId) facts.push(`hold "${p.holdId}"`);
    if (p.statementSid) facts.push(`statement "${p.statementSid}"`);
    facts.push(p.endTime ? `protected until ${utc(p.endTime)}` : "no scheduled end: lasts until removed");
    list.appendChild(
      h("li", { "data-kind": p.kind }, h("strong", {}, kindTitles[p.kind] ?? p.kind), p.description ? `: ${p.description}` : "", h("br"), h("span", { class: "facts" }, facts.join("; "))),
    );
  }
  append(el, h("p", {}, `${resp.protections.length} thing${resp.protections.length === 1 ? "" : "s"} stop${resp.protections.length === 1 ? "s" : ""} a permanent delete:`), list);
  return el;
}

