// Drives Debian's Chromium with playwright-core for tests/browser/test_inbox_page.py, one step
// at a time, so a test can interleave what a person does in the page with calls of its own to
// the API (answering an interrupt meanwhile, checking what a run did).
//
// Each line on stdin is a command {"id", "target", "selector", "method", "args"}: target "page"
// calls page[method](...args), "locator" page.locator(selector)[method](...args), "keyboard"
// page.keyboard[method](...args), and "console" takes the console lines gathered so far. Each
// gets one line back on stdout: `REPLY {"id", "value"}` or `REPLY {"id", "error"}`. The browser
// closes when stdin does.
import { createRequire } from "node:module";
import readline from "node:readline";

// playwright-core is installed beside the SDKs in tests/js (`make js`).
const { chromium } = createRequire(new URL("../js/package.json", import.meta.url))("playwright-core");

const { PROFILE_DIR } = process.env;

// The same flags as drive.mjs: no sandbox helper, no calls out to a network this machine lacks.
const context = await chromium.launchPersistentContext(PROFILE_DIR, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  locale: "en-US",
  timezoneId: "UTC",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
// A step that cannot happen fails in seconds, with Playwright's reason, not at the test's timeout.
page.setDefaultTimeout(10_000);
const consoleLines = [];
page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));

// Playwright's own objects (a Response, a JSHandle, a screenshot's Buffer) do not cross over.
const plain = (value) =>
  value === undefined || value === null
    ? null
    : typeof value !== "object" || Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype
      ? value
      : null;

const reply = (message) => process.stdout.write(`REPLY ${JSON.stringify(message)}\n`);

for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { id, target, selector, method, args = [] } = JSON.parse(line);
  try {
    let value;
    if (target === "console") {
      value = consoleLines.splice(0);
    } else {
      const object = target === "locator" ? page.locator(selector) : target === "keyboard" ? page.keyboard : page;
      if (typeof object[method] !== "function") throw new Error(`${target} has no method ${method}`);
      value = await object[method](...args);
    }
    reply({ id, value: plain(value) });
  } catch (error) {
    reply({ id, error: String(error?.message ?? error) });
  }
}
await context.close();
