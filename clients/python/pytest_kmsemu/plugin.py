"""The pytest plugin (entry point pytest11): a fixture `kmsemu` that runs
one kmsemu per test and fails the test if it does not stop cleanly.

    @pytest.mark.kmsemu(scenario="scenarios/faults/errors.lua", args=["--threads", "8"])
    def test_x(kmsemu): ...
"""

import pytest

from pytest_kmsemu import start


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "kmsemu(scenario=None, args=()): the scenario file and extra command-line "
        "arguments of the test's kmsemu fixture")


@pytest.fixture
def kmsemu(request):
    """A running kmsemu (pytest_kmsemu.Kmsemu): endpoint, host, credentials, admin."""
    marker = request.node.get_closest_marker("kmsemu")
    options = marker.kwargs if marker else {}
    server = start(options.get("scenario"), options.get("args", ()))
    yield server
    server.stop()
