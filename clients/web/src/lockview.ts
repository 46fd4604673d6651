// The vault lock of one vault: its state, dates and policy document.

import { VaultLockState } from "@gen/wormvault/v1/lock_pb.js";
import { locks } from "./api";
import { h, replace } from "./dom";
import { toApiError } from "./errors";
import { utc } from "./format";
import { errorPanel } from "./ui";

export function lockPanel(vault: string): HTMLElement {
  const out = h("div", {}, "Reading the vault lock…");
  const section = h("section", { class: "panel", "data-testid": "lock-panel" }, h("h3", {}, `Vault lock of ${vault}`), out);
  locks.getVaultLock({ vault }).then(
    (resp) => {
      const state = resp.state === VaultLockState.LOCKED ? "LOCKED (immutable)" : resp.state === VaultLockState.IN_PROGRESS ? "IN_PROGRESS (may still be aborted)" : "unknown";
      replace(
        out,
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "State"),
          h("dd", { "data-testid": "lock-state" }, state),
          h("dt", {}, "Created"),
          h("dd", {}, utc(resp.createTime)),
          h("dt", {}, resp.state === VaultLockState.LOCKED ? "Completed" : "Expires unless completed"),
          h("dd", {}, resp.state === VaultLockState.LOCKED ? "—" : utc(resp.expireTime)),
        ),
        h("h4", {}, "Policy"),
        h("pre", { class: "policy" }, prettyJson(resp.policy)),
      );
    },
    (err) => {
      // No lock is a state of the vault, told as such; the reason is
      // still shown so nothing else hides behind it.
      const e = toApiError(err);
      if (e.reason === "VAULT_LOCK_NOT_FOUND") {
        replace(out, h("p", { "data-testid": "lock-state" }, `This vault has no vault lock (${e.code}, ${e.reason}).`));
        return;
      }
      replace(out, errorPanel(err, "Reading the vault lock"));
    },
  );
  return section;
}

function prettyJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
}
