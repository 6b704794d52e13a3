"""Starts kmsemu on a free port for a suite and stops it with SIGTERM."""

import os
import re
import signal
import subprocess
import tempfile
import time

from casefile import ROOT

READY = re.compile(rb"kmsemu listening on (https?://\S+)")
START_SECONDS = 15
STOP_SECONDS = 10


class ServerError(Exception):
    pass


def binary():
    return str(ROOT / os.environ.get("KMSEMU_BIN", "build/kmsemu"))


def _read(f):
    f.seek(0)
    return f.read()


class Server:
    """One kmsemu process; stdout and stderr go to files, so no pipe fills."""

    def __init__(self, scenario):
        self.stdout = tempfile.TemporaryFile()
        self.stderr = tempfile.TemporaryFile()
        self.argv = [binary(), "--listen", "127.0.0.1:0", "--scenario", scenario]
        try:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                         stdout=self.stdout, stderr=self.stderr)
        except OSError as err:
            raise ServerError(f"{self.argv[0]} could not be run: {err}") from err
        self.url = self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + START_SECONDS
        while not (ready := READY.search(_read(self.stdout))):
            if self.proc.poll() is not None:
                raise ServerError(f"kmsemu ended before it was ready: {self.finish()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise ServerError(f"no ready line within {START_SECONDS} s: {self.finish()}")
            time.sleep(0.02)
        return ready.group(1).decode()

    def finish(self):
        """How the exited process ended, with its stderr; closes the files."""
        code = self.proc.returncode
        how = f"died of {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        stderr = _read(self.stderr).decode(errors="replace")
        self.stdout.close()
        self.stderr.close()
        return f"{' '.join(self.argv)} {how}; stderr:\n{stderr}"

    def stop(self):
        """None if kmsemu exits with status 0 on SIGTERM, else why not."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return f"kmsemu did not stop within {STOP_SECONDS} s of SIGTERM: {self.finish()}"
        how = self.finish()
        return None if self.proc.returncode == 0 else f"kmsemu did not stop cleanly on SIGTERM: {how}"
