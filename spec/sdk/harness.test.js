"use strict";
// The harness (server.js) leaves evidence: a kmsemu that dies of a signal
// the harness did not send fails the stop() that finds it, with its exit
// status and output, and fails its test file's process when no stop() saw
// it.

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const { startServer } = require("./server");

describe("the server harness", () => {
  it("fails stop() when kmsemu died of a signal it did not send, showing the signal and stderr", async () => {
    const server = await startServer();
    process.kill(server.pid, "SIGUSR1");
    await assert.rejects(server.stop(), (err) => {
      assert.match(err.message, /died of a signal the harness did not send/);
      assert.match(err.message, /signal SIGUSR1/);
      assert.match(err.message, /--- stderr ---/);
      return true;
    });
  });

  it("stops quietly with the signal it sent", async () => {
    const server = await startServer();
    const { code, signal } = await server.stop();
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });

  it("fails the test process when a death went unseen by stop()", () => {
    // The child process keeps this one alive until its death is seen.
    const script = `
      const { startServer } = require(${JSON.stringify(require.resolve("./server"))});
      startServer().then((s) => { process.kill(s.pid, "SIGUSR1"); });`;
    const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20000 });
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, /no stop\(\) saw it/);
  });
});
