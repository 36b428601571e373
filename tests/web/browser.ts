/**
 * Debian's Chromium driven by playwright-core (no browser download), launched the way this
 * machine needs (headless, no sandbox as root, no background networking: the network is closed),
 * and screenshots saved where a person can look at them.
 *
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { hasCommand } from "../harness/processes.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** True when Chromium is installed (`apt-get install chromium`). */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile && hasCommand("chromium");
  } catch {
    return false;
  }
}

/** The flags Chromium needs here; Playwright adds a fresh `--user-data-dir` per launch. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium.
 *
 * @example
 * ```ts
 * const browser = await launchChromium();
 * const page = await (await browser.newContext()).newPage();
 * ```
 */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [...CHROMIUM_FLAGS],
    timeout: 30_000,
  });
}

/** The folder of the screenshots (git-ignored). */
export const SCREENSHOT_DIR = new URL("./screenshots/", import.meta.url);

/**
 * Saves a full-page screenshot as `tests/web/screenshots/<name>.png`; returns its path.
 *
 * @example
 * ```ts
 * await screenshot(page, "story-01-developer-online");
 * ```
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = new URL(`${name}.png`, SCREENSHOT_DIR).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * A page in a fresh browser context (its own storage, as a separate person), with console
 * errors and page errors collected.
 *
 * @example
 * ```ts
 * const { page, problems } = await openPage(browser, url, { width: 1200, height: 800 });
 * ```
 */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1200, height: 860 },
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(url);
  await page.locator("main").waitFor();
  return { page, problems };
}
