// The wormvault compliance console: sign in with an access key, then a
// vault list beside the chosen vault's archives, upload, vault lock and the
// audit trail. Plain DOM, no framework: a handful of panels, each rebuilt
// from the server's answers when shown.

import "./style.css";
import { RetentionMode, type Vault } from "@gen/wormvault/v1/types_pb.js";
import { keyId, signIn, signOut, vaults } from "./api";
import { archivePanel } from "./archives";
import { auditPanel } from "./auditview";
import { field, h, replace } from "./dom";
import { mode } from "./format";
import { lockPanel } from "./lockview";
import { notice, run } from "./ui";
import { uploadPanel } from "./upload";

type Tab = "archives" | "upload" | "lock" | "audit";
const tabs: Array<[Tab, string]> = [
  ["archives", "Archives"],
  ["upload", "Upload"],
  ["lock", "Vault lock"],
  ["audit", "Audit trail"],
];

const root = document.getElementById("root")!;

function showSignIn(message?: HTMLElement): void {
  const id = h("input", { type: "text", name: "key-id", autocomplete: "off", required: true, spellcheck: "false" });
  const secret = h("input", { type: "password", name: "secret", autocomplete: "off", required: true });
  const submit = h("button", { type: "submit" }, "Sign in");
  const out = h("div", {}, message);
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: (ev) => {
        ev.preventDefault();
        void run(submit, out, "Sign-in", async () => {
          signIn(id.value, secret.value);
          try {
            // The key is checked by a first call: a wrong one is refused
            // here, with the server's reason, before any panel shows.
            await vaults.listVaults({ pageSize: 1 });
          } catch (err) {
            signOut();
            throw err;
          }
          showApp();
        });
      },
    },
    h("h2", {}, "Sign in"),
    h("p", {}, "With an access key: its id and secret (the two halves of the token ", h("code", {}, "<key-id>.<secret>"), "). The key stays in this page's memory only and goes to this server only; reloading or signing out forgets it."),
    field("Access key id", id),
    field("Secret", secret),
    submit,
    out,
  );
  replace(root, h("header", { class: "top" }, h("h1", {}, "wormvault console")), h("main", { class: "narrow" }, form));
  id.focus();
}

function showApp(): void {
  let vault = "";
  let tab: Tab = "archives";
  const list = h("ul", { class: "vaults", "data-testid": "vault-list" });
  const listStatus = h("div", {});
  const content = h("div", { class: "content" });
  const nav = h("nav", { class: "tabs" });

  async function loadVaults(): Promise<void> {
    const all: Vault[] = [];
    let pageToken = "";
    do {
      const resp = await vaults.listVaults({ pageSize: 1000, pageToken });
      all.push(...resp.vaults);
      pageToken = resp.nextPageToken;
    } while (pageToken);
    replace(list, ...all.map(vaultItem));
    replace(listStatus, all.length ? null : h("p", { class: "empty" }, "No vaults yet."));
  }

  function vaultItem(v: Vault): HTMLLIElement {
    const d = v.defaultRetention;
    const retention = d && mode(d.mode) ? `${mode(d.mode)} ${d.years ? `${d.years} y` : `${d.days} d`}` : "no default retention";
    return h(
      "li",
      {},
      h("button", { type: "button", class: "vault", "aria-current": v.name === vault ? "true" : undefined, "data-vault": v.name, onclick: () => select(v.name, "archives") }, h("span", {}, v.name), h("small", {}, retention)),
    );
  }

  function select(name: string, t: Tab): void {
    vault = name;
    tab = t;
    for (const b of list.querySelectorAll<HTMLButtonElement>("button.vault")) {
      if (b.dataset.vault === vault) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    render();
  }

  function render(): void {
    replace(
      nav,
      ...tabs.map(([t, label]) =>
        h("button", { type: "button", role: "tab", "aria-selected": t === tab ? "true" : "false", disabled: !vault && t !== "audit", onclick: () => select(vault, t) }, label),
      ),
    );
    if (!vault && tab !== "audit") {
      replace(content, h("p", { class: "empty" }, "Choose a vault, or create one."));
      return;
    }
    const heading = h("h2", { "data-testid": "vault-heading" }, vault || "All vaults");
    switch (tab) {
      case "archives":
        replace(content, heading, archivePanel(vault));
        break;
      case "upload":
        replace(content, heading, uploadPanel(vault));
        break;
      case "lock":
        replace(content, heading, lockPanel(vault));
        break;
      case "audit":
        replace(content, heading, auditPanel(vault));
        break;
    }
  }

  const name = h("input", { type: "text", name: "vault-name", required: true, placeholder: "e.g. finance-records" });
  const defMode = h("select", { name: "default-mode" }, h("option", { value: "" }, "none"), h("option", { value: "GOVERNANCE" }, "GOVERNANCE"), h("option", { value: "COMPLIANCE" }, "COMPLIANCE"));
  const defDays = h("input", { type: "number", name: "default-days", min: 1, max: 36500, value: 365 });
  const create = h("button", { type: "submit" }, "Create vault");
  const createOut = h("div", {});
  const createForm = h(
    "form",
    {
      class: "create-vault",
      onsubmit: (ev) => {
        ev.preventDefault();
        void run(create, createOut, `Creating vault ${name.value}`, async () => {
          const m = defMode.value === "GOVERNANCE" ? RetentionMode.GOVERNANCE : defMode.value === "COMPLIANCE" ? RetentionMode.COMPLIANCE : undefined;
          const resp = await vaults.createVault({ name: name.value.trim(), defaultRetention: m ? { mode: m, days: Number(defDays.value) } : undefined });
          replace(createOut, notice(`Vault ${resp.vault?.name} created.`));
          name.value = "";
          await loadVaults();
          select(resp.vault?.name ?? "", "archives");
        });
      },
    },
    h("h3", {}, "New vault"),
    field("Name", name),
    field("Default retention", defMode),
    field("Default days", defDays),
    create,
    createOut,
  );

  replace(
    root,
    h(
      "header",
      { class: "top" },
      h("h1", {}, "wormvault console"),
      h("span", { class: "who", "data-testid": "signed-in-as" }, `signed in with key ${keyId()}`),
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            signOut();
            showSignIn(notice("Signed out: the key is forgotten."));
          },
        },
        "Sign out",
      ),
    ),
    h("div", { class: "layout" }, h("aside", {}, h("h2", {}, "Vaults"), list, listStatus, createForm), h("main", {}, nav, content)),
  );
  render();
  void run(null, listStatus, "Listing vaults", loadVaults);
}

showSignIn();
