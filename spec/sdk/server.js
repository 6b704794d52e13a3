"use strict";
// Starts a kmsemu binary for a test file and stops it again.
//
//   const srv = await startServer();          // scenarios/default.lua
//   srv.url                                   // "http://127.0.0.1:41234"
//                                             // (https:// with a TLS flag)
//   const { code, signal } = await srv.stop(); // SIGTERM, waits for exit
//
// A server that dies of a signal this harness did not send fails the
// stop() that finds it, with its exit status and output; its death is
// printed when it happens, and fails the test file's process at exit if
// no stop() reported it.
//
// The binary is build/kmsemu under the repo root unless KMSEMU_BIN names
// another one. It is started as
//   <bin> --listen 127.0.0.1:0 --scenario <file>
// with the repo root as working directory, and is ready once it prints
//   kmsemu listening on http://HOST:PORT
// on stdout.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const fixtures = require("./fixtures");

const READY_RE = /kmsemu listening on (https?):\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/;
const DEFAULT_START_TIMEOUT_MS = Number(process.env.KMSEMU_START_TIMEOUT_MS) || 15000;
const DEFAULT_STOP_TIMEOUT_MS = 10000;
const KEEP_OUTPUT = 64 * 1024; // bytes of stdout/stderr kept for error messages

const live = new Set();
const unreported = new Set(); // deaths by a signal not sent, not yet thrown by stop()
process.on("exit", () => {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch (_) {
      /* already gone */
    }
  }
  for (const text of unreported) {
    console.error(`kmsemu died of a signal the harness did not send, and no stop() saw it\n${text}`);
    process.exitCode = 1;
  }
});

function binaryPath() {
  const bin = process.env.KMSEMU_BIN || "build/kmsemu";
  return path.resolve(fixtures.repoRoot, bin);
}

function tail(s) {
  return s.length > KEEP_OUTPUT ? s.slice(s.length - KEEP_OUTPUT) : s;
}

/**
 * @param {object} [opts]
 * @param {string} [opts.scenario]  scenario file, relative to the repo root
 * @param {string[]} [opts.args]    extra command-line arguments
 * @param {number} [opts.timeoutMs] how long to wait for the ready line
 * @returns {Promise<{host:string, port:number, url:string, pid:number,
 *   stop:() => Promise<{code:number|null, signal:string|null, stderr:string}>,
 *   output:() => {stdout:string, stderr:string}}>}
 */
function startServer(opts = {}) {
  const bin = binaryPath();
  const scenario = opts.scenario || fixtures.scenario;
  const timeoutMs = opts.timeoutMs || DEFAULT_START_TIMEOUT_MS;
  const args = ["--listen", "127.0.0.1:0", "--scenario", scenario, ...(opts.args || [])];

  let problem = null;
  try {
    if (!fs.statSync(bin).isFile()) problem = "is not a file";
    else fs.accessSync(bin, fs.constants.X_OK);
  } catch (err) {
    problem = err.code === "ENOENT" ? "does not exist" : `is not executable (${err.code})`;
  }
  if (problem) {
    return Promise.reject(
      new Error(`kmsemu binary ${bin} ${problem} (build it first, or set KMSEMU_BIN)`),
    );
  }

  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: fixtures.repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);

    let stdout = "";
    let stderr = "";
    let ready = false;
    let settled = false;
    let exitInfo = null;
    let sent = null; // the signal the harness sent, if any
    let death = null; // the report of a death by a signal not sent

    const describe = () =>
      `${bin} ${args.join(" ")}\n` +
      (exitInfo ? `--- exit: code ${exitInfo.code}, signal ${exitInfo.signal} ---\n` : "") +
      `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

    // "close" rather than "exit": it comes after stdout/stderr are drained,
    // so an early-exit error message carries all of stderr.
    const exited = new Promise((res) => {
      child.on("close", (code, signal) => {
        exitInfo = { code, signal };
        live.delete(child);
        if (signal && signal !== sent) {
          death = `pid ${child.pid}: ${describe()}`;
          unreported.add(death);
          console.error(`kmsemu died of ${signal}, not sent by the harness\n${death}`);
        }
        res(exitInfo);
      });
    });

    const kill = (signal) => {
      sent = signal;
      child.kill(signal);
    };

    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!exitInfo) kill("SIGKILL");
      reject(err);
    };

    const timer = setTimeout(() => {
      fail(new Error(`kmsemu did not print its ready line within ${timeoutMs} ms\n${describe()}`));
    }, timeoutMs);

    child.on("error", (err) => {
      fail(new Error(`cannot start kmsemu: ${err.message}\n${describe()}`));
    });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      stderr = tail(stderr + chunk);
    });

    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      stdout = tail(stdout + chunk);
      if (ready) return;
      const m = READY_RE.exec(stdout);
      if (!m) return;
      ready = true;
      settled = true;
      clearTimeout(timer);
      const scheme = m[1];
      const host = m[2];
      const port = Number(m[3]);
      let stopping = null;
      resolve({
        host,
        port,
        scheme,
        url: `${scheme}://${host}:${port}`,
        pid: child.pid,
        output: () => ({ stdout, stderr }),
        stop(stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
          if (stopping) return stopping;
          stopping = (async () => {
            if (!exitInfo) kill("SIGTERM");
            let killTimer;
            const timedOut = new Promise((res) => {
              killTimer = setTimeout(() => res(null), stopTimeoutMs);
            });
            let info = await Promise.race([exited, timedOut]);
            clearTimeout(killTimer);
            if (!info) {
              kill("SIGKILL");
              await exited;
              throw new Error(
                `kmsemu did not exit within ${stopTimeoutMs} ms of SIGTERM (killed)\n${describe()}`,
              );
            }
            if (death) {
              unreported.delete(death);
              throw new Error(`kmsemu died of a signal the harness did not send\n${death}`);
            }
            return { ...info, stdout, stderr };
          })();
          return stopping;
        },
      });
    });

    exited.then((info) => {
      if (!ready) {
        unreported.delete(death); // the rejection below reports it
        fail(
          new Error(
            `kmsemu exited before it was ready (code ${info.code}, signal ${info.signal})\n${describe()}`,
          ),
        );
      }
    });
  });
}

module.exports = { startServer, binaryPath, READY_RE };
