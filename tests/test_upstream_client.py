"""The upstream client over real HTTP: every documented fault gives its own clear message."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from credentials import upstream
from tests.fake_swr import HOST, FakeHuawei, fetch_iam_token, secret_response, swr_error_body

TIMEOUTS = upstream.Timeouts(connect=2, read=2)
USERNAME = "cn-north-4@OWFPUKBXI7CJ0GTE3H2L"
PASSWORD = "6f0779072fb4a13bf4b1f7d1ad0de6bd6de6a25aae1acd9453f9ef921b7f33aa"


def create(server: HTTPServer, **kwargs: object) -> upstream.TemporaryLogin:
    options = {"token": "tok", "project_name": "cn-north-4", "timeouts": TIMEOUTS} | kwargs
    return upstream.create_secret(api_url=server.url_for("/"), **options)


def answer(server: HTTPServer, response: Response) -> None:
    server.expect_request("/v2/manage/utils/secret", method="POST").respond_with_response(response)


def test_it_reads_the_documented_answer(httpserver: HTTPServer) -> None:
    answer(httpserver, secret_response(USERNAME, PASSWORD))
    login = create(httpserver)
    assert (login.username, login.password, login.host) == (USERNAME, PASSWORD, HOST)
    assert login.expires_at == datetime(2026, 11, 23, 12, 18, 44, 382000, tzinfo=UTC)
    assert login.docker_command == f"docker login -u {USERNAME} -p {PASSWORD} {HOST}"
    assert login.helm_command == (
        f"helm registry login {HOST} --username {USERNAME} --password {PASSWORD}"
    )


def test_it_sends_the_documented_request(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return secret_response(USERNAME, PASSWORD)

    httpserver.expect_request("/v2/manage/utils/secret", method="POST").respond_with_handler(
        handler
    )
    create(httpserver, token="MIIabc", project_name="cn-north-4_team")
    (request,) = seen
    assert request.args["projectname"] == "cn-north-4_team"
    assert request.headers["X-Auth-Token"] == "MIIabc"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.get_data() == b""


def test_without_an_expiry_header_it_is_valid_24_hours_from_issue(httpserver: HTTPServer) -> None:
    answer(httpserver, secret_response(USERNAME, PASSWORD, expire_at=None))
    before = datetime.now(UTC)
    login = create(httpserver)
    assert (
        before + timedelta(hours=24) <= login.expires_at <= datetime.now(UTC) + timedelta(hours=24)
    )


def test_a_login_command_that_names_the_host_is_read_too(httpserver: HTTPServer) -> None:
    response = secret_response(USERNAME, PASSWORD)
    response.headers["X-Swr-Dockerlogin"] += f" {HOST}"
    answer(httpserver, response)
    assert create(httpserver).username == USERNAME


def test_with_several_hosts_it_picks_the_registry_it_was_asked_for(httpserver: HTTPServer) -> None:
    auth = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    body = {"auths": {"a.example": {"auth": auth}, "b.example": {"auth": auth}}}
    answer(
        httpserver,
        Response(
            json.dumps(body),
            headers={"X-Swr-Dockerlogin": f"docker login -u {USERNAME} -p {PASSWORD}"},
        ),
    )
    assert create(httpserver, prefer_host="b.example").host == "b.example"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_is_reported() -> None:
    port = closed_port()
    with pytest.raises(upstream.UpstreamError) as error:
        upstream.create_secret(
            api_url=f"http://127.0.0.1:{port}", token="t", project_name="p", timeouts=TIMEOUTS
        )
    assert (
        str(error.value)
        == f"Could not connect to the SWR API at 127.0.0.1:{port}: connection refused."
    )


@pytest.fixture
def unaccepting_listener() -> Iterator[int]:
    """A port whose accept queue is full, so new connections hang in the handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_a_connection_that_is_never_accepted_times_out(unaccepting_listener: int) -> None:
    with pytest.raises(upstream.UpstreamError) as error:
        upstream.create_secret(
            api_url=f"http://127.0.0.1:{unaccepting_listener}",
            token="t",
            project_name="p",
            timeouts=upstream.Timeouts(connect=0.5, read=5),
        )
    assert "did not accept a connection within 0.5 seconds" in str(error.value)


def test_a_slow_answer_ends_at_the_read_timeout_which_is_always_passed(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(timeout=30)
        return secret_response(USERNAME, PASSWORD)

    httpserver.expect_request("/v2/manage/utils/secret").respond_with_handler(slow)
    passed: list[object] = []
    real_request = upstream._session.request

    def spy(*args: object, **kwargs: object) -> object:
        passed.append(kwargs.get("timeout"))
        return real_request(*args, **kwargs)

    monkeypatch.setattr(upstream._session, "request", spy)
    try:
        with pytest.raises(upstream.UpstreamError) as error:
            create(httpserver, timeouts=upstream.Timeouts(connect=1, read=0.3))
    finally:
        release.set()
    assert passed == [(1, 0.3)]
    assert str(error.value) == (
        f"The SWR API at {httpserver.host}:{httpserver.port} did not answer within 0.3 seconds."
    )


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (
            400,
            "4001036",
            "The SWR API refused the request as invalid (HTTP 400): Invalid parameter. (error code SVCSTG.SWR.4001036)",
        ),
        (
            401,
            "4010000",
            "The SWR API did not accept the console's credentials (authentication failed) (HTTP 401): Invalid parameter. (error code SVCSTG.SWR.4010000)",
        ),
        (
            403,
            "4030170",
            "The console's account is not allowed to do this at the SWR API (HTTP 403): Invalid parameter. (error code SVCSTG.SWR.4030170)",
        ),
        (
            429,
            "4291032",
            "The SWR API is receiving too many requests; try again in a minute (HTTP 429): Invalid parameter. (error code SVCSTG.SWR.4291032)",
        ),
        (
            500,
            "5001076",
            "The SWR API had an internal error; try again later (HTTP 500): Invalid parameter. (error code SVCSTG.SWR.5001076)",
        ),
    ],
)
def test_each_error_status_has_its_message_and_the_swr_code(
    httpserver: HTTPServer, status: int, code: str, expected: str
) -> None:
    body = swr_error_body(status, code[3:], "Invalid parameter.")
    answer(httpserver, Response(body, status=status, content_type="application/json"))
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver)
    assert str(error.value) == expected
    assert error.value.status == status


def test_the_older_bare_array_error_body_is_understood(httpserver: HTTPServer) -> None:
    body = json.dumps(
        [{"errorCode": "SVCSTG.SWR.4001025", "errorMessage": "Bad project", "detail": ""}]
    )
    answer(httpserver, Response(body, status=400))
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver)
    assert error.value.code == "SVCSTG.SWR.4001025"
    assert "Bad project" in str(error.value)


def test_a_gateway_error_with_an_html_body_still_has_a_message(httpserver: HTTPServer) -> None:
    answer(
        httpserver, Response("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    )
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver)
    assert str(error.value) == "The SWR API had an internal error; try again later (HTTP 502)."


# A well-formed X-Swr-Dockerlogin header, and a well-formed body (for x:y, not that login).
LOGIN = f"docker login -u {USERNAME} -p {PASSWORD}"
AUTHS = '{"auths": {"h": {"auth": "eDp5"}}}'


@pytest.mark.parametrize(
    ("body", "login", "expected"),
    [
        ("not json", LOGIN, "with a body that is not JSON."),
        ("[1, 2]", LOGIN, "with JSON that is not an object."),
        ("{}", LOGIN, "without the registry login (no “auths”)."),
        ('{"auths": {}}', LOGIN, "without the registry login (no “auths”)."),
        ('{"auths": {"h": {}}}', LOGIN, "with an “auths” entry that has no “auth”."),
        ('{"auths": {"h": {"auth": "%%%"}}}', LOGIN, "with an “auth” that is not base64."),
        (AUTHS, None, "without the X-Swr-Dockerlogin header."),
        (AUTHS, "podman login x", "with a malformed X-Swr-Dockerlogin header."),
        (AUTHS, "docker login -u x", "with a malformed X-Swr-Dockerlogin header."),
        (
            AUTHS,
            LOGIN,
            "with a login command and a body that disagree on the username or password.",
        ),
    ],
)
def test_each_malformed_answer_has_its_own_message(
    httpserver: HTTPServer, body: str, login: str | None, expected: str
) -> None:
    headers = {} if login is None else {"X-Swr-Dockerlogin": login}
    answer(httpserver, Response(body, headers=headers))
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver)
    assert str(error.value) == f"The SWR API answered {expected}"


def test_a_malformed_expiry_header_is_reported(httpserver: HTTPServer) -> None:
    answer(httpserver, secret_response(USERNAME, PASSWORD, expire_at="tomorrow-ish"))
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver)
    assert str(error.value) == "The upstream answered with a malformed X-Swr-Expireat header."


def test_messages_never_carry_the_token(httpserver: HTTPServer) -> None:
    answer(httpserver, Response(swr_error_body(401, "0000", "Authentication failed"), status=401))
    with pytest.raises(upstream.UpstreamError) as error:
        create(httpserver, token="MIIsecret-token")
    assert "MIIsecret-token" not in str(error.value)


# --- The X-Auth-Token provider ------------------------------------------------------


def provider_for(fake: FakeHuawei, **overrides: str) -> upstream.TokenProvider:
    options = {
        "iam_url": fake.url,
        "domain": fake.domain,
        "user": fake.user,
        "password": fake.password,
    }
    return upstream.TokenProvider(timeouts=TIMEOUTS, **(options | overrides))


def test_the_iam_token_is_fetched_once_and_reused(httpserver: HTTPServer) -> None:
    fake = FakeHuawei(httpserver).install()
    provider = provider_for(fake)
    for _ in range(3):
        upstream.create_secret_with(
            provider, api_url=fake.url, project_name="cn-north-4", timeouts=TIMEOUTS
        )
    assert fake.iam_calls == 1
    assert fake.secret_calls == 3


def test_an_expired_iam_token_is_refreshed_once_on_a_401(httpserver: HTTPServer) -> None:
    fake = FakeHuawei(httpserver).install()
    provider = provider_for(fake)
    first = provider.token("cn-north-4")
    fake.refused_tokens.add(first)  # SWR now says the token must be updated
    login = upstream.create_secret_with(
        provider, api_url=fake.url, project_name="cn-north-4", timeouts=TIMEOUTS
    )
    assert login.host == HOST
    assert fake.iam_calls == 2
    assert fake.secret_calls == 2


def test_a_second_401_after_the_refresh_is_reported_not_retried_again(
    httpserver: HTTPServer,
) -> None:
    fake = FakeHuawei(httpserver).install()
    provider = provider_for(fake)
    real_iam = fake.iam_tokens

    def iam_whose_tokens_swr_refuses(request: Request) -> Response:
        response = real_iam(request)
        fake.refused_tokens.update(fake.issued_tokens)
        return response

    fake.iam_tokens = iam_whose_tokens_swr_refuses  # type: ignore[method-assign]
    httpserver.clear_all_handlers()
    fake.install()
    with pytest.raises(upstream.UpstreamError) as error:
        upstream.create_secret_with(
            provider, api_url=fake.url, project_name="cn-north-4", timeouts=TIMEOUTS
        )
    assert error.value.status == 401
    assert fake.iam_calls == 2
    assert fake.secret_calls == 2


def test_a_token_near_its_expiry_is_replaced(httpserver: HTTPServer) -> None:
    fake = FakeHuawei(httpserver).install()
    provider = provider_for(fake)
    provider.token("cn-north-4")
    cached = provider._cache["cn-north-4"]
    provider._cache["cn-north-4"] = upstream.IamToken(
        cached.value, datetime.now(UTC) + upstream.IAM_TOKEN_MARGIN - timedelta(seconds=1)
    )
    assert provider.token("cn-north-4") != cached.value
    assert fake.iam_calls == 2


def test_concurrent_requests_share_one_iam_token_fetch(httpserver: HTTPServer) -> None:
    fake = FakeHuawei(httpserver).install()
    release = threading.Event()
    real_iam = fake.iam_tokens

    def gated_iam(request: Request) -> Response:
        release.wait(timeout=30)
        return real_iam(request)

    fake.iam_tokens = gated_iam  # type: ignore[method-assign]
    httpserver.clear_all_handlers()
    fake.install()
    provider = provider_for(fake)
    tokens: list[str] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        tokens.append(provider.token("cn-north-4"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(tokens) == 8
    assert len(set(tokens)) == 1
    assert fake.iam_calls == 1


def test_wrong_iam_credentials_are_reported(httpserver: HTTPServer) -> None:
    fake = FakeHuawei(httpserver).install()
    provider = provider_for(fake, password="wrong")
    with pytest.raises(upstream.UpstreamError) as error:
        provider.token("cn-north-4")
    assert str(error.value).startswith(
        "The IAM API did not accept the console's credentials (authentication failed) (HTTP 401)"
    )
    assert "wrong" not in str(error.value)


def test_an_iam_answer_without_the_subject_token_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v3/auth/tokens").respond_with_json({"token": {}}, status=201)
    with pytest.raises(upstream.UpstreamError) as error:
        fetch_iam_token(httpserver.url_for("/"), TIMEOUTS, project="x")
    assert str(error.value) == "The IAM API answered without the X-Subject-Token header."


def test_a_static_token_is_used_as_is_and_not_refreshed(httpserver: HTTPServer) -> None:
    answer(httpserver, Response(swr_error_body(401, "0000", "Authentication failed"), status=401))
    provider = upstream.TokenProvider(static_token="static-token", timeouts=TIMEOUTS)
    with pytest.raises(upstream.UpstreamError):
        upstream.create_secret_with(
            provider, api_url=httpserver.url_for("/"), project_name="p", timeouts=TIMEOUTS
        )
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].headers["X-Auth-Token"] == "static-token"
