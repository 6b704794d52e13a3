"""Runs kmsemu, the local Huawei Cloud and Tencent Cloud KMS emulator, for a
test: on a free port, with a given scenario, stopped with SIGTERM after.

    with pytest_kmsemu.start("scenarios/faults/errors.lua") as kms:
        kms.endpoint, kms.credentials.tencent.secret_id, kms.admin.add_fault(...)

The pytest fixture `kmsemu` (pytest_kmsemu.plugin) does the same per test.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pytest_kmsemu.admin import Admin, AdminError

__all__ = ["Admin", "AdminError", "Credentials", "HuaweiCredentials", "Kmsemu", "KmsemuError",
           "TencentCredentials", "find_binary", "start"]

START_SECONDS = 15
STOP_SECONDS = 10

# The start-up banner: the ready line, one line per configured dialect with
# its credentials, then the key count, written at once.
READY = re.compile(r"^kmsemu listening on (https?://(\S+))$", re.M)
HUAWEI = re.compile(r"^  huawei +\S+/v1\.0/(\S+)/kms/\.\.\.  AK (\S+)  SK (\S+)$", re.M)
TENCENT = re.compile(r"^  tencent +\S+/  region (\S+)  SecretId (\S+)  SecretKey (\S+)$", re.M)
BANNER_END = re.compile(r"^  \d+ keys from ", re.M)


class KmsemuError(Exception):
    """kmsemu could not be found, did not start or did not stop cleanly, or its
    scenario lacks what was asked for."""


@dataclass(frozen=True)
class HuaweiCredentials:
    ak: str
    sk: str
    project_id: Optional[str]  # None when the scenario names no project


@dataclass(frozen=True)
class TencentCredentials:
    secret_id: str
    secret_key: str
    region: str


@dataclass(frozen=True)
class Credentials:
    """The scenario's test credentials; None for a dialect it leaves out."""
    huawei: Optional[HuaweiCredentials]
    tencent: Optional[TencentCredentials]


def _checkout_binary(start):
    for d in (start, *start.parents):
        if (d / "lua" / "kmsemu" / "init.lua").is_file() and os.access(d / "build" / "kmsemu", os.X_OK):
            return str(d / "build" / "kmsemu")
    return None


def find_binary():
    """$KMSEMU_BIN, else kmsemu on PATH, else build/kmsemu of the kmsemu
    checkout holding the current directory or this package."""
    if os.environ.get("KMSEMU_BIN"):
        return os.path.abspath(os.environ["KMSEMU_BIN"])
    found = shutil.which("kmsemu")
    found = found or _checkout_binary(Path.cwd()) or _checkout_binary(Path(__file__).resolve().parent)
    if not found:
        raise KmsemuError("no kmsemu binary: set KMSEMU_BIN, put kmsemu on PATH, "
                          "or run inside a kmsemu checkout after make")
    return found


def _read(f):
    f.seek(0)
    return f.read().decode(errors="replace")


def _credentials(banner):
    hw, tc = HUAWEI.search(banner), TENCENT.search(banner)
    return Credentials(
        huawei=hw and HuaweiCredentials(ak=hw[2], sk=hw[3], project_id=None if hw[1] == "{project_id}" else hw[1]),
        tencent=tc and TencentCredentials(secret_id=tc[2], secret_key=tc[3], region=tc[1]))


class Kmsemu:
    """One running kmsemu. endpoint: "http://127.0.0.1:PORT"; host: the same
    without the scheme (Tencent SDKs take it so); credentials; admin;
    tencent_client()."""

    def __init__(self, scenario=None, args=(), binary=None):
        self.argv = [binary or find_binary(), "--listen", "127.0.0.1:0"]
        if scenario is not None:
            self.argv += ["--scenario", os.fspath(scenario)]
        self.argv += list(args)
        # Files rather than pipes: nothing has to drain them while the test runs.
        self._stdout = tempfile.TemporaryFile()
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                          stdout=self._stdout, stderr=self._stderr)
        except OSError as err:
            raise KmsemuError(f"{self.argv[0]} could not be run: {err}") from err
        banner = self._wait_ready()
        ready = READY.search(banner)
        self.endpoint, self.host = ready[1], ready[2]
        self.credentials = _credentials(banner)
        self.admin = Admin(self.endpoint)

    def _wait_ready(self):
        deadline = time.monotonic() + START_SECONDS
        while True:
            out = _read(self._stdout)
            if READY.search(out) and BANNER_END.search(out):
                return out
            if self._proc.poll() is not None:
                raise KmsemuError(f"kmsemu ended before it was ready: {self._finish()}")
            if time.monotonic() > deadline:
                self._proc.kill()
                self._proc.wait()
                raise KmsemuError(f"kmsemu printed no start-up banner within {START_SECONDS} s; "
                                  f"stdout:\n{out}\n{self._finish()}")
            time.sleep(0.01)

    def _finish(self):
        code = self._proc.returncode
        how = f"died of {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        stderr = _read(self._stderr)
        self._stdout.close()
        self._stderr.close()
        return f"{' '.join(self.argv)} {how}; stderr:\n{stderr}"

    def tencent_client(self):
        """The Tencent SDK's KmsClient (tencentcloud-sdk-python-kms, API
        2019-01-18) for this kmsemu: its host over http, the scenario's
        Tencent credentials and region."""
        # The SDK is optional (the extra "tencent"): imported when asked for.
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.kms.v20190118.kms_client import KmsClient

        tc = self.credentials.tencent
        if tc is None:
            raise KmsemuError("the scenario gives no Tencent credentials")
        profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=self.host))
        return KmsClient(Credential(tc.secret_id, tc.secret_key), tc.region, profile)

    def stop(self):
        """SIGTERM, then KmsemuError (with kmsemu's stderr) unless it exits
        with status 0. A second call does nothing."""
        if self._stdout.closed:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                raise KmsemuError(f"kmsemu did not stop within {STOP_SECONDS} s of SIGTERM: "
                                  f"{self._finish()}") from None
        how = self._finish()
        if self._proc.returncode != 0:
            raise KmsemuError(f"kmsemu did not stop cleanly: {how}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(scenario=None, args=(), binary=None):
    """A running kmsemu on a free loopback port: the scenario file (default:
    the binary's own, scenarios/default.lua), extra command-line args, and
    the binary (default: find_binary())."""
    return Kmsemu(scenario, args, binary)
