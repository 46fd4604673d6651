// Shared pieces of the panels: how an error is shown (never swallowed:
// code, reason and the server's message), and running an action with its
// button disabled meanwhile.

import { h, replace } from "./dom";
import { toApiError } from "./errors";

/** errorPanel renders a failed call with its code, reason and message. */
export function errorPanel(err: unknown, what: string): HTMLElement {
  const e = toApiError(err);
  return h(
    "div",
    { class: "error", role: "alert", "data-testid": "error" },
    h("strong", {}, `${what} failed`),
    h(
      "dl",
      {},
      h("dt", {}, "code"),
      h("dd", { "data-testid": "error-code" }, e.code),
      h("dt", {}, "reason"),
      h("dd", { "data-testid": "error-reason" }, e.reason || "(none given)"),
      h("dt", {}, "message"),
      h("dd", { "data-testid": "error-message" }, e.detail),
    ),
  );
}

/** run disables button while action runs and shows its error in out. */
export async function run(button: HTMLButtonElement | null, out: HTMLElement, what: string, action: () => Promise<void>): Promise<void> {
  if (button) button.disabled = true;
  try {
    await action();
  } catch (err) {
    replace(out, errorPanel(err, what));
  } finally {
    if (button) button.disabled = false;
  }
}

/** notice is a one-line success message. */
export function notice(text: string): HTMLElement {
  return h("p", { class: "notice", role: "status", "data-testid": "notice" }, text);
}
