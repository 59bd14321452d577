"""Upstream failures said in the user's terms, with what to do next; internal addresses only
in the log. Each kind of failure comes from a real HTTP answer (or a refused connection)."""

from __future__ import annotations

import socket

import pytest
from django.utils import translation
from pytest_httpserver import HTTPServer
from werkzeug import Response

from credentials import upstream
from credentials.upstream.temporary_logins import user_message
from tests.fake_swr import swr_error_body

TIMEOUTS = upstream.Timeouts(connect=2, read=2)


def failure(server: HTTPServer, status: int, body: str = "") -> upstream.UpstreamError:
    server.expect_request("/v2/manage/utils/secret", method="POST").respond_with_response(
        Response(body, status=status, content_type="application/json")
    )
    with pytest.raises(upstream.UpstreamError) as raised:
        upstream.create_secret(
            api_url=server.url_for("/"), token="t", project_name="p", timeouts=TIMEOUTS
        )
    return raised.value


@pytest.mark.parametrize(
    ("status", "reason", "says"),
    [
        (500, "unavailable", "SWR could not be reached just now. Try again in a minute"),
        (503, "unavailable", "SWR could not be reached just now"),
        (429, "busy", "Wait a minute and try again"),
        (401, "not_allowed", "Trying again will not help: tell your administrator"),
        (403, "not_allowed", "did not accept the console's own account"),
        (400, "refused", "SWR refused to issue the credential. Tell your administrator"),
        (404, "refused", "SWR refused to issue the credential"),
    ],
)
def test_each_status_is_said_in_the_users_terms(
    httpserver: HTTPServer, status: int, reason: str, says: str
) -> None:
    error = failure(httpserver, status)
    assert error.reason == reason
    message = user_message(error)
    assert says in message
    assert str(httpserver.port) not in message


def test_huaweis_error_code_is_passed_on(httpserver: HTTPServer) -> None:
    error = failure(httpserver, 400, swr_error_body(400, "1001", "bad project"))
    assert user_message(error).endswith("(SWR error code SVCSTG.SWR.4001001)")
    assert "bad project" not in user_message(error)  # the upstream's words stay in the log


def test_a_refused_connection_names_no_address() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(upstream.UpstreamError) as raised:
        upstream.create_secret(
            api_url=f"http://127.0.0.1:{port}", token="t", project_name="p", timeouts=TIMEOUTS
        )
    assert raised.value.reason == "unreachable"
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "127.0.0.1" not in user_message(raised.value)


def test_a_malformed_answer_is_said_too(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v2/manage/utils/secret", method="POST").respond_with_data("{}")
    with pytest.raises(upstream.UpstreamError) as raised:
        upstream.create_secret(
            api_url=httpserver.url_for("/"), token="t", project_name="p", timeouts=TIMEOUTS
        )
    assert raised.value.reason == "malformed"
    assert "does not understand" in user_message(raised.value)


def test_the_message_is_in_the_users_language() -> None:
    error = upstream.UpstreamError("Could not connect to x:1", reason="unreachable")
    with translation.override("zh-hans"):
        assert "SWR" in user_message(error)
        assert "管理员" in user_message(error)
