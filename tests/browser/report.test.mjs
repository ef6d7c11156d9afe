// Browser test of report.html: loads the page from a file:// URL in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) and checks that it renders, that its search and
// outlet filter work, that it is readable with scripts off, that it makes no request and shows
// no console error, and that hostile article text stays text.
//
//   node report.test.mjs --sample DIR --injection DIR [--screenshot FILE]
//
// DIR is a `storyhash run --out DIR` directory (report.html and summary.json). run.sh builds
// both runs and calls this script.

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    sample: { type: "string" },
    injection: { type: "string" },
    screenshot: { type: "string" },
  },
});
if (!args.sample || !args.injection) {
  console.error("usage: node report.test.mjs --sample DIR --injection DIR [--screenshot FILE]");
  process.exit(2);
}

// The flags this machine needs: no sandbox as root, and no background traffic to Google's
// hosts (which the closed network refuses).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  chromiumSandbox: false,
  args: [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

let failures = 0;

async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures += 1;
    console.log(`FAIL ${name}\n${error.stack ?? error}`);
  }
}

/**
 * Opens `dir/report.html` in a fresh context and records everything that must not happen.
 * Returns the page, the events and a `done()` that asserts none of them happened.
 */
async function open(dir, { javaScriptEnabled = true } = {}) {
  const file = resolve(dir, "report.html");
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({
    javaScriptEnabled,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const events = { requests: [], console: [], errors: [], dialogs: [], popups: [] };
  // Every request, seen twice: by Playwright and by Chromium's own network log.
  context.on("request", (r) => events.requests.push(`playwright: ${r.url()}`));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  cdp.on("Network.requestWillBeSent", (e) => events.requests.push(`network: ${e.request.url}`));
  cdp.on("Network.webSocketCreated", (e) => events.requests.push(`websocket: ${e.url}`));
  page.on("console", (m) => events.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => events.errors.push(String(e)));
  page.on("dialog", (d) => {
    events.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on("popup", (p) => events.popups.push(p.url()));
  await page.goto(url, { waitUntil: "load" });
  // Let anything deferred (timers, lazy loads) have its chance.
  await page.waitForTimeout(300);
  const done = async () => {
    // The log is live: it saw the page itself load.
    assert.ok(events.requests.includes(`network: ${url}`), `page load logged: ${events.requests}`);
    const foreign = events.requests.filter((r) => !r.endsWith(`: ${url}`));
    assert.deepEqual(foreign, [], "requests other than the page itself");
    const bad = events.console.filter((m) => /^(error|warning)/.test(m));
    assert.deepEqual(bad, [], "console errors (a CSP refusal means a hash in html.rs is stale)");
    assert.deepEqual(events.errors, [], "uncaught errors");
    assert.deepEqual(events.dialogs, [], "dialogs");
    assert.deepEqual(events.popups, [], "popups");
    await context.close();
  };
  return { page, events, done, url };
}

/** The clusters (cards and compact rows) the filter leaves visible. */
const visibleItems = (page) =>
  page.$$eval("[data-item]:not([data-item=story])", (items) =>
    items.filter((el) => el.offsetParent !== null).length,
  );
/** The stories the filter leaves visible. */
const visibleStories = (page) =>
  page.$$eval("[data-item=story]", (items) => items.filter((el) => el.offsetParent !== null).length);

const summary = JSON.parse(readFileSync(resolve(args.sample, "summary.json"), "utf8"));
const thousands = (n) => n.toLocaleString("en-US");

await check("sample report renders with its numbers and charts", async () => {
  const { page, done } = await open(args.sample);
  assert.match(await page.title(), /^storyhash report/);
  const stat = (name) => page.textContent(`[data-stat="${name}"]`);
  assert.equal(await stat("articles-in"), thousands(summary.articles_in));
  assert.equal(await stat("duplicate-clusters"), thousands(summary.duplicate_clusters));
  assert.equal(await stat("rejected"), thousands(summary.rejected));
  const charts = await page.$$eval("figure.chart svg", (svgs) =>
    svgs.map((svg) => ({
      bars: svg.querySelectorAll("rect[class^=s]").length,
      width: svg.getBoundingClientRect().width,
    })),
  );
  assert.equal(charts.length, 3, "three charts");
  for (const c of charts) {
    assert.ok(c.bars > 0 && c.width > 200, `chart drawn: ${JSON.stringify(c)}`);
  }
  assert.equal(await page.locator("svg line.marker").count(), 1, "threshold marker");
  // The stories: overview cards, their section, and the five largest stacked in the timeline.
  assert.equal(await stat("stories"), thousands(summary.stories));
  assert.equal(await page.locator("article.story").count(), Math.min(summary.stories, 50));
  assert.ok(await page.locator("#stories article.story a[href^=http]").count() > 0, "member links");
  assert.ok(await page.locator("#stories .badge.copy").count() > 0, "copies shown in stories");
  const legend = await page.$$eval("figure.chart.wide .legend > span", (s) => s.map((e) => e.textContent));
  assert.equal(legend.length, 6, `five stories and the rest: ${legend}`);
  assert.equal(legend[5], "other articles");
  assert.ok(legend.slice(0, 5).every((l) => /^#\d+ /.test(l)), `${legend}`);
  const cards = await page.locator("article.cluster").count();
  assert.equal(cards, Math.min(summary.duplicate_clusters, 200));
  assert.ok(await page.locator("details.diff").count() > 0, "diffs present");
  // The CSS applied: the header bar is dark.
  const headerColor = await page.$eval("header.top", (el) => getComputedStyle(el).backgroundColor);
  assert.equal(headerColor, "rgb(36, 41, 47)", "style sheet applied");
  await done();
});

await check("search and outlet filter hide what does not match", async () => {
  const { page, done } = await open(args.sample);
  const form = page.locator("#filters");
  assert.ok(await form.isVisible(), "the filter form is shown when scripts run");
  const total = await visibleItems(page);
  const stories = await visibleStories(page);
  assert.equal(total, summary.duplicate_clusters);
  assert.equal(stories, Math.min(summary.stories, 50));
  assert.equal(await page.textContent("#filter-status"), `${stories} stories, ${total} clusters`);

  // A word from one cluster's heading keeps that cluster and drops most others.
  const heading = await page.textContent("article.cluster:nth-of-type(2) h3");
  const word = heading.split(/\W+/).filter((w) => w.length >= 6).sort((a, b) => b.length - a.length)[0];
  assert.ok(word, `a search word in ${JSON.stringify(heading)}`);
  await page.fill("#filter-word", word.toLowerCase());
  const matching = await visibleItems(page);
  assert.ok(matching >= 1 && matching < total, `${matching} of ${total} match ${word}`);
  const matchingStories = await visibleStories(page);
  assert.ok(matchingStories >= 1 && matchingStories < stories, `${matchingStories} stories match`);
  assert.equal(
    await page.textContent("#filter-status"),
    `${matchingStories} of ${stories} stories, ${matching} of ${total} clusters match`,
  );
  const visibleTexts = await page.$$eval("article.cluster", (cards) =>
    cards.filter((c) => c.offsetParent !== null).map((c) => c.textContent.toLowerCase()),
  );
  for (const t of visibleTexts) assert.ok(t.includes(word.toLowerCase()));

  await page.fill("#filter-word", "zzzz-no-such-word");
  assert.equal(await visibleItems(page), 0);
  assert.equal(await visibleStories(page), 0);
  await page.fill("#filter-word", "");
  assert.equal(await visibleItems(page), total);
  assert.equal(await visibleStories(page), stories);

  // An outlet: every visible cluster has a visible row from it.
  const outlet = await page.$eval("#filter-outlet option:nth-child(2)", (o) => o.value);
  await page.selectOption("#filter-outlet", outlet);
  const byOutlet = await visibleItems(page);
  assert.ok(byOutlet >= 1 && byOutlet < total, `${byOutlet} clusters from ${outlet}`);
  const ok = await page.$$eval(
    "article.cluster",
    (cards, src) =>
      cards
        .filter((c) => c.offsetParent !== null)
        .every((c) =>
          [...c.querySelectorAll("tr[data-row]")].some(
            (r) => r.dataset.source === src && r.offsetParent !== null,
          ),
        ),
    outlet,
  );
  assert.ok(ok, "each visible cluster shows a row from the outlet");
  await page.selectOption("#filter-outlet", "");
  assert.equal(await visibleItems(page), total);

  // A diff opens and marks changes.
  const diff = page.locator("details.diff").first();
  await diff.locator("summary").click();
  assert.ok(await diff.locator(".difftext").isVisible());
  assert.ok((await diff.locator("ins, del").count()) > 0, "the diff marks changes");
  await done();
});

await check("everything is readable with scripts off", async () => {
  const { page, done } = await open(args.sample, { javaScriptEnabled: false });
  assert.equal(await page.locator("#filters").isVisible(), false, "no dead controls");
  const rows = await page.$$eval("tr[data-row]", (rs) => rs.filter((r) => r.offsetParent !== null).length);
  const all = await page.locator("tr[data-row]").count();
  assert.ok(all > 0 && rows === all, `${rows} of ${all} rows visible`);
  assert.equal(await page.locator("figure.chart svg").count(), 3);
  await done();
});

if (args.screenshot) {
  await check("screenshot", async () => {
    const { page, done } = await open(args.sample);
    // The top of the page: the overview, the charts and the largest story.
    const bottom = await page.$eval(
      "#stories article.story",
      (el) => el.getBoundingClientRect().bottom + window.scrollY,
    );
    await page.screenshot({
      path: args.screenshot,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom) + 12 },
    });
    console.log(`     saved ${args.screenshot}`);
    await done();
  });
}

await check("hostile article text stays text", async () => {
  const { page, done } = await open(args.injection);
  assert.match(await page.title(), /^storyhash report/, "the title was not rewritten");
  const dom = await page.evaluate(() => ({
    scripts: document.scripts.length,
    scriptSources: [...document.scripts].filter((s) => s.src).length,
    foreign: document.querySelectorAll("img, iframe, object, embed, link, base, frame, video, audio, style:not(head > style), b, em").length,
    handlers: [...document.querySelectorAll("*")].flatMap((el) =>
      el.getAttributeNames().filter((n) => n.startsWith("on")).map((n) => `${el.tagName}.${n}`),
    ),
    hrefs: [...document.querySelectorAll("[href]")].map((el) => el.getAttribute("href")),
    text: document.body.textContent,
  }));
  assert.equal(dom.scripts, 1, "only the page's own script");
  assert.equal(dom.scriptSources, 0);
  assert.equal(dom.foreign, 0, "no injected elements");
  assert.deepEqual(dom.handlers, [], "no event handler attributes");
  for (const href of dom.hrefs) {
    assert.match(href, /^(#[\w-]+|https?:\/\/)/, `href ${href}`);
  }
  assert.ok(dom.hrefs.includes("http://ok.example/story?a=1&b=<2>"), "the http link survives intact");
  assert.ok(dom.hrefs.includes('https://example.com/a"onmouseover="alert(7)'));
  for (const shown of [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</title><style>@import url(http://evil.example/x.css)</style>",
    "<script>alert(8)</script>",
    "x'><img src=x onerror=alert(2)>",
  ]) {
    assert.ok(dom.text.includes(shown), `shown as text: ${shown}`);
  }
  // The outlet filter matches a hostile outlet name exactly.
  await page.selectOption("#filter-outlet", '" onmouseover="alert(3)');
  assert.equal(await visibleItems(page), 1);
  await page.selectOption("#filter-outlet", "");
  await page.fill("#filter-word", "<script>");
  assert.equal(await visibleItems(page), 2, "both clusters have a <script> title or outlet");
  await page.locator("details.diff").first().locator("summary").click();
  const diff = await page.textContent("details.diff .difftext");
  assert.ok(diff.includes("<script>alert(8)</script>"), "diff text shown as text");
  await done();
});

await browser.close();
if (failures > 0) {
  console.log(`${failures} browser check(s) failed`);
  process.exit(1);
}
console.log("browser checks passed");
