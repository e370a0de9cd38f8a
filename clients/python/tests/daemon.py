"""What the tests that need gpumuxd share: the daemon they reach through GPUMUX_HOST (a Sim daemon,
as the .NET test PythonClientTests starts one), and a skip where there is none."""

from __future__ import annotations

import os
import unittest

import gpumux

REASON = "needs a gpumuxd: set GPUMUX_HOST to its socket (dotnet test starts a Sim daemon for these tests)"


class DaemonTestCase(unittest.TestCase):
    """A test with a client of its own, closed after it."""

    def setUp(self) -> None:
        if not os.environ.get("GPUMUX_HOST"):
            self.skipTest(REASON)
        self.client = gpumux.connect(name=self.id().rsplit(".", 1)[-1])
        self.addCleanup(self.client.close)
