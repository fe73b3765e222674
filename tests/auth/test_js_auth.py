"""The official JS SDK (both majors) authenticates with `apiKey` and with a bearer header."""

from __future__ import annotations

import pytest

from tests.auth.conftest import API_KEYS, TOKENS
from tests.js.node import SDKS, run_script
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.js


@pytest.mark.parametrize("pkg", list(SDKS))
def test_js_sdk_with_api_key(pkg: str, keys_server: ServerProcess) -> None:
    out, _ = run_script("auth.mjs", pkg, keys_server.url, {"WAYPOST_API_KEY": API_KEYS[0]})
    assert out["identity"].startswith("api-key:")
    assert out["answer"] == "yes"
    assert out["without"] == 401


@pytest.mark.parametrize("pkg", list(SDKS))
def test_js_sdk_with_bearer_header(pkg: str, auth_server: ServerProcess) -> None:
    out, _ = run_script("auth.mjs", pkg, auth_server.url, {"WAYPOST_BEARER": TOKENS["user2"]})
    assert out == {"identity": "user2", "answer": "yes", "without": 401}
