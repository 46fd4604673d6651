// Upload of one file into a vault, with a chosen retention. The progress
// bar shows how much of the request body the browser has sent; the archive
// exists only when the server answers, after it has stored it on its
// drives, and the panel says so rather than show 100% as "done".

import { uploadArchive, type UploadOptions } from "./api";
import { field, h, replace } from "./dom";
import { bytes, hex, mode, utc } from "./format";
import { notice, run } from "./ui";

const day = 24 * 60 * 60 * 1000;

export function uploadPanel(vault: string): HTMLElement {
  const file = h("input", { type: "file", name: "file", required: true });
  const key = h("input", { type: "text", name: "key", required: true, placeholder: "e.g. reports/2026/q1.pdf" });
  const retentionMode = h(
    "select",
    { name: "retention-mode" },
    h("option", { value: "" }, "the vault's default"),
    h("option", { value: "GOVERNANCE" }, "GOVERNANCE"),
    h("option", { value: "COMPLIANCE" }, "COMPLIANCE"),
  );
  const days = h("input", { type: "number", name: "retention-days", min: 1, max: 36500, value: 30 });
  const legalHold = h("input", { type: "checkbox", name: "legal-hold" });
  const submit = h("button", { type: "submit" }, "Upload");
  const progress = h("progress", { max: 1, value: 0, hidden: true, "data-testid": "upload-progress" });
  const progressText = h("span", { class: "progress-text", "data-testid": "upload-progress-text" });
  const out = h("div", { "data-testid": "upload-result" });

  file.addEventListener("change", () => {
    if (!key.value && file.files?.[0]) key.value = file.files[0].name;
  });
  const syncDays = () => (days.disabled = retentionMode.value === "");
  retentionMode.addEventListener("change", syncDays);
  syncDays();

  const form = h(
    "form",
    {
      class: "upload",
      onsubmit: (ev) => {
        ev.preventDefault();
        const f = file.files?.[0];
        if (!f) return;
        const opts: UploadOptions = { contentType: f.type, legalHold: legalHold.checked };
        if (retentionMode.value) {
          opts.retention = { mode: retentionMode.value as "GOVERNANCE" | "COMPLIANCE", retainUntil: new Date(Date.now() + Number(days.value) * day) };
        }
        progress.hidden = false;
        progress.max = Math.max(f.size, 1);
        progress.value = 0;
        replace(out);
        void run(submit, out, `Upload of ${key.value}`, async () => {
          try {
            const a = await uploadArchive(vault, key.value.trim(), f, opts, (sent, total) => {
              progress.max = Math.max(total, 1);
              progress.value = sent;
              progressText.textContent =
                sent < total ? `${bytes(sent)} of ${bytes(total)} sent` : `${bytes(total)} sent; waiting for the server to store it on its drives…`;
            });
            progressText.textContent = `Stored: ${bytes(a.sizeBytes)}.`;
            const r = a.retention;
            replace(
              out,
              notice(`Uploaded ${a.key} as version ${a.versionId}.`),
              h(
                "dl",
                { class: "facts" },
                h("dt", {}, "SHA-256"),
                h("dd", { class: "mono" }, hex(a.sha256)),
                h("dt", {}, "Retention"),
                h("dd", {}, r && mode(r.mode) ? `${mode(r.mode)} until ${utc(r.retainUntilTime)}${r.fromDefault ? " (vault default)" : ""}` : "none"),
                h("dt", {}, "Legal hold"),
                h("dd", {}, a.legalHold ? "yes" : "no"),
              ),
            );
          } catch (err) {
            progressText.textContent = "Not stored.";
            throw err;
          }
        });
      },
    },
    field("File", file),
    field("Key", key),
    field("Retention mode", retentionMode),
    field("Retain for (days)", days),
    field("Legal hold at upload", legalHold),
    submit,
  );
  return h("section", { class: "panel" }, h("h3", {}, `Upload into ${vault}`), form, h("div", { class: "progress" }, progress, " ", progressText), out);
}
