"use strict";
// The dashboard (/_kmsemu/ui) end to end: the real binary started with an
// admin token, the page in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core), and the official Tencent Node SDK calling
// the same server. What is clicked on the page must show in the SDK, and
// what the SDK does must show on the page. Ends with a screenshot,
// build/ui/dashboard.png.

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { after, before, describe, it } = require("node:test");
const { chromium } = require("playwright-core");
const tencentcloud = require("tencentcloud-sdk-nodejs");
const { start } = require("../../clients/node");

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.resolve(ROOT, process.env.KMSEMU_BIN || "build/kmsemu");
const CHROMIUM = "/usr/bin/chromium";
const SHOT = path.join(ROOT, "build", "ui", "dashboard.png");
const TOKEN = "dashboard-spec-token";
// Enabled Tencent keys of scenarios/default.lua.
const DISABLED_FROM_PAGE = "23e80852-1e38-11e9-b129-5cb9019b4b01";
const OTHER_KEY = "6d4f5e70-1e38-11e9-b129-5cb9019b4b06";

let kms;
let browser;
let page;
let sdk;

// The admin API with the bearer token, as a script would call it.
async function admin(method, p, body) {
  const res = await fetch(new URL(`/_kmsemu/${p}`, kms.endpoint), {
    method, headers: { authorization: `Bearer ${TOKEN}` }, body: body && JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function tencentCode(call) {
  try {
    await call();
  } catch (err) {
    return err.code;
  }
  return null;
}

const keyRow = (id) => page.locator(`#keys tr[data-key-id="${id}"]`);

before(async () => {
  kms = await start({ bin: BIN, scenario: "scenarios/default.lua", args: ["--admin-token", TOKEN] });
  const { secretId, secretKey, region } = kms.credentials.tencent;
  sdk = new tencentcloud.kms.v20190118.Client({ credential: { secretId, secretKey }, region,
    profile: { httpProfile: { endpoint: kms.host, protocol: "http://", reqTimeout: 15 } } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  // The browser answers the page's Basic challenge with the token.
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: TOKEN },
    viewport: { width: 1500, height: 1000 },
  });
  page = await context.newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (kms) await kms.stop();
});

describe("the dashboard", () => {
  it("asks a browser without the token for it, and opens with it", async () => {
    const res = await fetch(new URL("/_kmsemu/ui", kms.endpoint));
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate"), /^Basic realm="kmsemu admin"/);
    await page.goto(new URL("/_kmsemu/ui", kms.endpoint).href);
    await page.locator("body[data-ready=true]").waitFor();
    const { body } = await admin("GET", "catalog");
    const tabs = await page.locator("#dialect-tabs button").evaluateAll((bs) => bs.map((b) => b.dataset.dialect));
    assert.deepEqual(tabs, body.dialects.map((d) => d.name));
  });

  it("disables a Tencent key, and the SDK gets CmkDisabled", async () => {
    const request = { KeyId: DISABLED_FROM_PAGE, Plaintext: "aGk=" };
    assert.equal(await tencentCode(() => sdk.Encrypt(request)), null);
    await page.click('#dialect-tabs button[data-dialect="tencent"]');
    await keyRow(DISABLED_FROM_PAGE).locator('button[data-action="disable"]').click();
    await page.locator(`#keys tr[data-key-id="${DISABLED_FROM_PAGE}"][data-state="disabled"]`).waitFor();
    assert.equal(await tencentCode(() => sdk.Encrypt(request)), "ResourceUnavailable.CmkDisabled");
    // The buttons follow the state: a disabled key may be enabled, not disabled again.
    const actions = await keyRow(DISABLED_FROM_PAGE).locator("button").evaluateAll((bs) => bs.map((b) => b.dataset.action));
    assert.deepEqual(actions, ["enable", "schedule_deletion"]);
    const row = page.locator(`#stream tr[data-error="ResourceUnavailable.CmkDisabled"]`).first();
    await row.waitFor();
    assert.match(await row.innerText(), /Encrypt/);
  });

  it("adds a fault that fires in the SDK and in the request stream", async () => {
    const form = page.locator("#fault-form");
    await form.locator('select[name="dialect"]').selectOption("tencent");
    await form.locator('input[name="action"]').fill("GenerateDataKey");
    await form.locator('select[name="error"]').selectOption("InternalError");
    await form.locator('select[name="trigger"]').selectOption("first");
    await form.locator('input[name="n"]').fill("1");
    await form.locator('button[type="submit"]').click();
    await page.locator("#notice", { hasText: "fault 1 added" }).waitFor();
    const { body } = await admin("GET", "faults");
    assert.deepEqual(body.faults.map((f) => [f.id, f.dialect, f.action, f.error, f.first, f.on]),
      [["1", "tencent", "GenerateDataKey", "InternalError", 1, true]]);

    const request = { KeyId: OTHER_KEY, KeySpec: "AES_256" };
    assert.equal(await tencentCode(() => sdk.GenerateDataKey(request)), "InternalError");
    assert.equal(await tencentCode(() => sdk.GenerateDataKey(request)), null); // first: 1 only
    const fired = page.locator('#stream tr[data-error="InternalError"]');
    await fired.waitFor();
    const cells = await fired.locator("td").allInnerTexts();
    assert.equal(cells[3], "GenerateDataKey");
    assert.equal(await fired.locator("td[data-key]").getAttribute("data-key"), OTHER_KEY);
    assert.equal(cells[7], "1"); // the fault that fired
    await page.locator('#faults tr[data-fault="1"] td', { hasText: "1 / 2" }).waitFor();
  });

  it("switches a fault off and on, and removes it", async () => {
    const form = page.locator("#fault-form");
    await form.locator('input[name="action"]').fill("ListKeys");
    await form.locator('select[name="trigger"]').selectOption("");
    await form.locator('button[type="submit"]').click();
    const row = page.locator('#faults tr[data-fault="2"]');
    await row.waitFor();
    const listKeys = () => tencentCode(() => sdk.ListKeys({}));
    assert.equal(await listKeys(), "InternalError");
    await row.locator('button[data-switch="off"]').click();
    await row.locator('button[data-switch="on"]').waitFor();
    assert.equal(await listKeys(), null);
    await row.locator('button[data-switch="on"]').click();
    await row.locator('button[data-switch="off"]').waitFor();
    assert.equal(await listKeys(), "InternalError");
    await row.locator("button[data-remove]").click();
    await row.waitFor({ state: "detached" });
    assert.equal(await listKeys(), null);
    assert.deepEqual((await admin("GET", "faults")).body.faults.map((f) => f.id), ["1"]);
  });

  it("freezes and advances the fake clock", async () => {
    await page.click("#clock-freeze");
    await page.locator("#clock-mode", { hasText: "frozen" }).waitFor();
    const now = Number(await page.locator("#clock-now").getAttribute("data-now"));
    await page.click('button[data-advance="86400"]');
    const later = new Date((now + 86400) * 1000).toISOString().replace(".000Z", "Z");
    await page.locator(`#clock-now[data-now="${now + 86400}"]`, { hasText: later }).waitFor();
    assert.equal((await admin("GET", "clock")).body.now, now + 86400);
  });

  it("searches the journal, and shows a refused filter's reason", async () => {
    const form = page.locator("#search-form");
    await form.locator('input[name="q"]').fill("dialect=tencent error=InternalError");
    await form.locator('button[type="submit"]').click();
    await page.locator("#search-count", { hasText: "found" }).waitFor();
    const errors = await page.locator("#results tbody tr").evaluateAll((rs) => rs.map((r) => r.dataset.error));
    const { body } = await admin("GET", "journal/count?dialect=tencent&error=InternalError");
    assert.equal(body.count, 3); // the GenerateDataKey fault once, the ListKeys fault twice
    assert.deepEqual(errors, ["InternalError", "InternalError", "InternalError"]);
    assert.equal(await page.locator("#search-count").innerText(), "3 found");

    await form.locator('input[name="q"]').fill("colour=red");
    await form.locator('button[type="submit"]').click();
    await page.locator("#notice.bad", { hasText: "unknown filter 'colour'" }).waitFor();
    assert.equal(await page.locator("#results tbody tr").count(), 0);
  });

  it("saves a screenshot of keys and requests", async () => {
    for (const KeyId of [OTHER_KEY, DISABLED_FROM_PAGE]) {
      await tencentCode(() => sdk.DescribeKey({ KeyId }));
    }
    await page.locator("#stream tbody tr").nth(9).waitFor();
    const form = page.locator("#search-form");
    await form.locator('input[name="q"]').fill("action=encrypt");
    await form.locator('button[type="submit"]').click();
    await page.locator("#search-count", { hasText: "2 found" }).waitFor();
    await keyRow(DISABLED_FROM_PAGE).locator('button[data-action="enable"]').click();
    await page.locator("#notice.good", { hasText: "is now enabled" }).waitFor();
    fs.mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });
    assert.ok(fs.statSync(SHOT).size > 10000);
  });
});
