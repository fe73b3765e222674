// Drives Debian's Chromium with playwright-core for tests/browser/test_cross_origin.py: opens the
// page (PAGE_URL, one origin), has it call Waypost (WAYPOST_URL, another origin) through the
// official JS SDK, then a server whose CORS policy leaves the page's origin out (NARROW_URL),
// takes a screenshot (SCREENSHOT) and prints `RESULT <json>` with what the page saw.
import { createRequire } from "node:module";

// playwright-core is installed beside the SDKs in tests/js (`make js`).
const { chromium } = createRequire(new URL("../js/package.json", import.meta.url))("playwright-core");

const { PAGE_URL, WAYPOST_URL, NARROW_URL, API_KEY, SCREENSHOT, PROFILE_DIR } = process.env;

// Playwright takes the fresh profile folder as an argument rather than --user-data-dir. The
// background-networking flags keep Chromium from calling out to a network this machine lacks.
const context = await chromium.launchPersistentContext(PROFILE_DIR, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await context.newPage();
  // Chromium says why it blocked a response only on the console: keep every line.
  const consoleLines = [];
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));

  await page.goto(PAGE_URL);
  try {
    await page.waitForFunction(() => window.waypost !== undefined, null, { timeout: 15_000 });
  } catch {
    throw new Error(`the page's modules did not load:\n${consoleLines.join("\n")}`);
  }
  const call = (name, args) => page.evaluate(([name, args]) => window.waypost[name](args), [name, args]);

  const flow = await call("seedFlow", { apiUrl: WAYPOST_URL, apiKey: API_KEY });
  const withoutKey = await call("createThread", { apiUrl: WAYPOST_URL, label: "without the key" });
  const narrowed = await call("createThread", { apiUrl: NARROW_URL, apiKey: API_KEY, label: "origin not allowed" });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  const origin = await page.evaluate(() => location.origin);
  console.log("RESULT " + JSON.stringify({ origin, flow, withoutKey, narrowed, console: consoleLines }));
} finally {
  await context.close();
}
