"use strict";
// Loaded with --require into every process of the Node SDK suites (see
// spec/run.sh): appends each chunk their sockets send and receive to the
// file $KMSEMU_WIRE, so that spec/logs/secrets.py knows every plaintext
// and data key that crossed the wire. It only watches; nothing changes.
const fs = require("node:fs");
const net = require("node:net");

const file = process.env.KMSEMU_WIRE;

function record(chunk, encoding) {
  if (chunk === null || chunk === undefined) return;
  const bytes = typeof chunk === "string" ? Buffer.from(chunk, encoding || "utf8") : Buffer.from(chunk);
  fs.appendFileSync(file, bytes);
}

if (file) {
  const push = net.Socket.prototype.push;
  net.Socket.prototype.push = function (chunk, encoding) {
    record(chunk, encoding);
    return push.call(this, chunk, encoding);
  };
  const writeGeneric = net.Socket.prototype._writeGeneric;
  net.Socket.prototype._writeGeneric = function (writev, data, encoding, cb) {
    for (const piece of writev ? data : [{ chunk: data, encoding }]) record(piece.chunk, piece.encoding);
    return writeGeneric.call(this, writev, data, encoding, cb);
  };
}
