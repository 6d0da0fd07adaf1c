// browser.mjs — Debian's Chromium (/usr/bin/chromium), headless, driven by playwright-core: no
// browser is ever downloaded. Each launch gets a fresh profile directory. Console errors and
// page errors (a Content-Security-Policy refusal among them) are collected for the test to check.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.MAAS_CHROMIUM ?? "/usr/bin/chromium";

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium package`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "maas-studio-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1360, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return {
    context, page, problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Saves a full-page screenshot as <dir>/<name>.png.
export async function shot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
