"""The upstream client under hostile upstreams: one deadline per call, no redirects followed,
deep JSON refused (issue 14, findings 3, 4 and 11)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from credentials import upstream
from tests.fake_swr import fetch_iam_token, secret_response

USERNAME = "cn-north-4@OWFPUKBXI7CJ0GTE3H2L"
PASSWORD = "6f0779072fb4a13bf4b1f7d1ad0de6bd6de6a25aae1acd9453f9ef921b7f33aa"
SHORT = upstream.Timeouts(connect=0.5, read=0.5)


@pytest.fixture
def trickler() -> Iterator[tuple[int, list[bytes]]]:
    """A server that answers each connection a byte at a time, 0.1 s apart, for 60 s —
    every single read well inside the read timeout. `modes` picks headers or body trickle."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    modes: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 600\r\n"
            if modes and modes[0] == b"body":
                conn.sendall(head + b"\r\n")
                payload = b" " * 600
            else:
                payload = head + b"X-Padding: " + b"a" * 600 + b"\r\n\r\n"
            for byte in payload:
                if stop.wait(0.1):  # the trickle's pace, not a synchronisation
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], modes
    stop.set()
    listener.close()


@pytest.mark.parametrize("mode", [b"headers", b"body"])
def test_a_trickling_upstream_is_cut_off_at_one_deadline(
    trickler: tuple[int, list[bytes]], mode: bytes
) -> None:
    port, modes = trickler
    modes.append(mode)
    started = time.monotonic()
    with pytest.raises(upstream.UpstreamError) as error:
        upstream.create_secret(
            api_url=f"http://127.0.0.1:{port}", token="t", project_name="p", timeouts=SHORT
        )
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"the call took {elapsed:.1f} s; its deadline was 1 s"
    assert str(error.value) == (
        f"The SWR API at 127.0.0.1:{port} did not finish answering within 1 seconds."
    )


def test_the_iam_token_call_has_the_same_deadline(trickler: tuple[int, list[bytes]]) -> None:
    port, modes = trickler
    modes.append(b"body")
    started = time.monotonic()
    with pytest.raises(upstream.UpstreamError, match="did not finish answering within 1 seconds"):
        fetch_iam_token(f"http://127.0.0.1:{port}", SHORT)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_reported_and_not_followed(httpserver: HTTPServer, status: int) -> None:
    elsewhere = HTTPServer(host="127.0.0.1", port=0)
    elsewhere.start()
    try:
        elsewhere.expect_request("/stolen").respond_with_data("{}")
        httpserver.expect_request("/v2/manage/utils/secret").respond_with_response(
            Response(status=status, headers={"Location": elsewhere.url_for("/stolen")})
        )
        with pytest.raises(upstream.UpstreamError) as error:
            upstream.create_secret(
                api_url=httpserver.url_for("/"),
                token="MIIsecret",
                project_name="p",
                timeouts=SHORT,
            )
        assert f"answered with a redirect (HTTP {status})" in str(error.value)
        assert elsewhere.log == []  # neither the token nor anything else went there
    finally:
        elsewhere.clear()
        elsewhere.stop()


def test_an_iam_redirect_does_not_carry_the_password_elsewhere(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Response:
        seen.append(request)
        return Response("{}")

    httpserver.expect_request("/v3/auth/tokens", method="POST").respond_with_response(
        Response(status=307, headers={"Location": httpserver.url_for("/elsewhere")})
    )
    httpserver.expect_request("/elsewhere").respond_with_handler(record)
    with pytest.raises(upstream.UpstreamError, match="redirect"):
        fetch_iam_token(httpserver.url_for("/"), SHORT, password="hunter2")
    assert seen == []


DEEP = "[" * 10_000 + "]" * 10_000


def test_deeply_nested_json_from_the_upstream_is_a_clear_error(httpserver: HTTPServer) -> None:
    ok = secret_response(USERNAME, PASSWORD)
    httpserver.expect_request("/v2/manage/utils/secret").respond_with_response(
        Response(DEEP, headers=dict(ok.headers), content_type="application/json")
    )
    with pytest.raises(upstream.UpstreamError, match="nested too deeply"):
        upstream.create_secret(
            api_url=httpserver.url_for("/"), token="t", project_name="p", timeouts=SHORT
        )


def test_deeply_nested_json_in_an_error_body_still_gives_the_status_message(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/v2/manage/utils/secret").respond_with_response(
        Response(DEEP, status=400, content_type="application/json")
    )
    with pytest.raises(
        upstream.UpstreamError, match=r"refused the request as invalid \(HTTP 400\)"
    ):
        upstream.create_secret(
            api_url=httpserver.url_for("/"), token="t", project_name="p", timeouts=SHORT
        )
