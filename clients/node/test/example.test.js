"use strict";
const assert = require("node:assert");
const { test } = require("node:test");
const { start } = require("kmsemu-test");

// The example README shows under "Using kmsemu from a test suite".
// example:start
test("Encrypt sees the injected fault", async (t) => {
  const kms = await start({ t }); // the default scenario; stopped after the test
  const client = kms.tencentClient(); // the SDK's kms.v20190118.Client, pointed at this kmsemu
  const request = { KeyId: "23e80852-1e38-11e9-b129-5cb9019b4b01", Plaintext: "aGk=" };
  await client.Encrypt(request);
  const fault = await kms.admin.addFault({ action: "Encrypt", error: "ResourceUnavailable.CmkDisabled" });
  await assert.rejects(client.Encrypt(request), { code: "ResourceUnavailable.CmkDisabled" });
  assert.strictEqual((await kms.admin.journalCount({ fault: fault.id })).count, 1);
});
// example:end
