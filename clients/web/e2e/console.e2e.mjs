// The console's acceptance run in headless Chromium, against a running
// server (internal/e2e's TestConsoleBrowser starts one and runs this):
// sign in, create a vault, upload a file with GOVERNANCE retention, see it
// listed with its retain-until, try to delete the version and see the
// refusal with its reason, set a legal hold, download the file bit-exact;
// then the vault lock and audit trail panels, and sign-out. A PNG screenshot of each step goes to $WORMVAULT_ARTIFACTS.
//
// Environment: WORMVAULT_CONSOLE_URL (http://127.0.0.1:PORT/console/),
// WORMVAULT_TOKEN (<key-id>.<secret> of a key allowed to do all that),
// WORMVAULT_ARTIFACTS (a directory), WORMVAULT_CHROMIUM (default
// /usr/bin/chromium, Debian's: `make web-deps` installs it).

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = need("WORMVAULT_CONSOLE_URL");
const token = need("WORMVAULT_TOKEN");
const artifacts = need("WORMVAULT_ARTIFACTS");
const executablePath = process.env.WORMVAULT_CHROMIUM || "/usr/bin/chromium";
const origin = new URL(url).origin;

const vault = "console-e2e";
const key = "records/evidence.bin";
const holdName = "litigation-2026";
const retentionDays = 30;
const day = 24 * 60 * 60 * 1000;

function need(name) {
  const v = process.env[name];
  if (!v) fail(`${name} is not set`);
  return v;
}

function fail(msg) {
  console.error(`console e2e: FAIL: ${msg}`);
  process.exit(1);
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

mkdirSync(artifacts, { recursive: true });
const content = randomBytes(256 * 1024 + 123);
const uploadedPath = join(artifacts, "uploaded-evidence.bin");
writeFileSync(uploadedPath, content);

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Playwright gives the browser a fresh temporary profile of its own.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  timeout: 20_000,
});

const problems = [];
let failure = "";
let step = 0;
let passed = 0;
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // The console talks to its own origin only, and nothing breaks its CSP.
  page.on("request", (req) => {
    const u = new URL(req.url());
    if (!["blob:", "data:"].includes(u.protocol) && u.origin !== origin) problems.push(`request to another origin: ${req.url()}`);
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/the server responded with a status of 4\d\d/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));

  async function shot(name) {
    const path = join(artifacts, `${String(step).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    passed++;
    console.log(`ok ${step} ${name}: ${path}`);
  }

  const row = () => page.locator(`tr[data-key="${key}"]`).first();

  // 1. The sign-in page, served under a strict CSP.
  step = 1;
  const resp = await page.goto(url);
  check(resp?.ok(), `GET ${url}: ${resp?.status()}`);
  const csp = resp.headers()["content-security-policy"] ?? "";
  check(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp) && /connect-src 'self'/.test(csp), `console served without a strict CSP: ${csp}`);
  await page.getByLabel("Access key id").waitFor();
  await shot("sign-in");

  // 2. Sign in.
  step = 2;
  const [id, secret] = [token.slice(0, token.indexOf(".")), token.slice(token.indexOf(".") + 1)];
  await page.getByLabel("Access key id").fill(id);
  await page.getByLabel("Secret").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("signed-in-as").waitFor();
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  check(stored.local === 0 && stored.session === 0 && stored.cookie === "", `the key left the page's memory: ${JSON.stringify(stored)}`);
  check((await context.cookies()).length === 0, "the server set a cookie");
  await shot("signed-in");

  // 3. Create a vault.
  step = 3;
  await page.getByLabel("Name").fill(vault);
  await page.getByRole("button", { name: "Create vault" }).click();
  await page.getByTestId("vault-heading").filter({ hasText: vault }).waitFor();
  await page.locator(`button.vault[data-vault="${vault}"]`).waitFor();
  await shot("vault-created");

  // 4. Upload with GOVERNANCE retention.
  step = 4;
  await page.getByRole("tab", { name: "Upload" }).click();
  await page.getByLabel("File").setInputFiles({ name: "evidence.bin", mimeType: "application/octet-stream", buffer: content });
  await page.getByLabel("Key").fill(key);
  await page.getByLabel("Retention mode").selectOption("GOVERNANCE");
  await page.getByLabel("Retain for (days)").fill(String(retentionDays));
  const uploadStart = Date.now();
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByTestId("upload-result").getByText(`Uploaded ${key}`).waitFor();
  const uploadText = await page.getByTestId("upload-result").innerText();
  check(uploadText.includes(sha256(content)), `upload answer lacks the file's SHA-256:\n${uploadText}`);
  await shot("uploaded");

  // 5. Listed with its retention and retain-until.
  step = 5;
  await page.getByRole("tab", { name: "Archives" }).click();
  await row().waitFor();
  const retention = await row().getByTestId("retention").innerText();
  check(retention.includes("GOVERNANCE"), `listed retention is ${JSON.stringify(retention)}, want GOVERNANCE`);
  const until = Date.parse((await row().getByTestId("retain-until").innerText()).replace(" ", "T"));
  const want = uploadStart + retentionDays * day;
  check(Math.abs(until - want) < 10 * 60 * 1000, `retain-until ${new Date(until).toISOString()}, want about ${new Date(want).toISOString()}`);
  await shot("listed-with-retain-until");

  // 6. Deleting the version is refused, with the reason.
  step = 6;
  await row().getByRole("button", { name: "Delete version" }).click();
  const del = page.getByTestId("delete-panel");
  await del.getByRole("button", { name: "Confirm delete" }).click();
  await del.getByTestId("error").waitFor();
  const reason = await del.getByTestId("error-reason").innerText();
  const code = await del.getByTestId("error-code").innerText();
  check(reason === "RETENTION_GOVERNANCE_ACTIVE", `delete refused with reason ${JSON.stringify(reason)}, want RETENTION_GOVERNANCE_ACTIVE`);
  check(code !== "" && code !== "UNKNOWN", `delete refused with code ${JSON.stringify(code)}`);
  await shot("delete-refused");

  // 7. "Why can't I delete this?"
  step = 7;
  await del.getByRole("button", { name: "Why can't I delete this?" }).click();
  const why = page.getByTestId("explain-panel");
  await why.locator('li[data-kind="RETENTION"]').waitFor();
  check((await why.innerText()).includes("GOVERNANCE"), "the explanation does not name the GOVERNANCE retention");
  await shot("why-not-deletable");

  // 8. A named legal hold.
  step = 8;
  await row().getByRole("button", { name: "Legal holds" }).click();
  const holds = page.getByTestId("holds-panel");
  await holds.getByLabel("Hold name").fill(holdName);
  await holds.getByLabel("Reason").fill("console acceptance test");
  await holds.getByRole("button", { name: "Set legal hold" }).click();
  await holds.locator(`li[data-hold="${holdName}"]`).waitFor();
  await row().getByTestId("holds").filter({ hasText: holdName }).waitFor();
  await shot("legal-hold-set");

  // 9. Download, bit-exact.
  step = 9;
  const [download] = await Promise.all([page.waitForEvent("download"), row().getByRole("button", { name: "Download" }).click()]);
  const downloadedPath = join(artifacts, "downloaded-evidence.bin");
  await download.saveAs(downloadedPath);
  const got = readFileSync(downloadedPath);
  check(got.length === content.length && sha256(got) === sha256(content), `downloaded ${got.length} bytes with SHA-256 ${sha256(got)}, uploaded ${content.length} with ${sha256(content)}`);
  await page.getByTestId("detail").getByText("verified").waitFor();
  await shot("downloaded-bit-exact");

  // Beyond the acceptance steps, the other panels answer too.
  // 10. The vault lock: none on a new vault, said as such.
  step = 10;
  await page.getByRole("tab", { name: "Vault lock" }).click();
  await page.getByTestId("lock-state").filter({ hasText: "no vault lock" }).waitFor();
  await shot("vault-lock");

  // 11. The audit trail of the vault holds its creation and the hold.
  step = 11;
  await page.getByRole("tab", { name: "Audit trail" }).click();
  const trail = page.getByTestId("audit-panel");
  await trail.locator("td", { hasText: "LEGAL_HOLD_SET" }).first().waitFor();
  await trail.locator("td", { hasText: "VAULT_CREATE" }).first().waitFor();
  await shot("audit-trail");

  // 12. Signing out forgets the key and every panel.
  step = 12;
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Access key id").waitFor();
  check((await page.locator("table").count()) === 0, "data still shown after sign-out");
  await shot("signed-out");

  check(problems.length === 0, problems.join("\n"));
  await context.close();
} catch (err) {
  failure = `step ${step}: ${err?.stack ?? err}${problems.length ? `\n${problems.join("\n")}` : ""}`;
} finally {
  await browser.close();
}
if (failure) fail(failure);
console.log(`console e2e: ${passed} passed, 0 failed; screenshots in ${artifacts}`);
