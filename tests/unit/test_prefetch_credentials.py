"""The index settings a uv user has apply: credentials (env, netrc, URL), TLS CAs, proxies.

A small forwarding server in front of the loopback index plays the private index (Basic auth,
optionally HTTPS with a self-signed certificate) or an HTTP proxy, and records what it saw.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import LockedProject
from tests.support.projects import copy_project, lock
from tests.support.pyindex import LoopbackIndex
from uvci.cli import main
from uvci.errors import FatalError
from uvci.planning import make_plan
from uvci.wheelhouse.credentials import Auth, Credentials, Index, env_name, load_auth, normalize_url
from uvci.wheelhouse.fill import fill_wheelhouse

USER, PASSWORD = "alice", "s3cret-token-42"


class AuthProxy:
    """Front for a LoopbackIndex: 401 without the right credentials (when ``users`` is given),
    HTTPS with ``tls``, forward proxy for absolute request URLs; records (path, user) seen."""

    def __init__(
        self,
        upstream: LoopbackIndex,
        users: dict[str, str] | None,
        tls: ssl.SSLContext | None = None,
        redirect_files: str | None = None,
    ) -> None:
        self.upstream = upstream
        self.users = users
        self.tls = tls
        self.redirect_files = redirect_files  # answer /files/X with 302 to <this base>/files/X
        self.seen: list[tuple[str, str | None]] = []  # (path, user or None)
        self.authorization: list[str | None] = []  # the raw header of every request
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def user_of(self, header: str | None) -> str | None:
        if self.users is None:
            return "anonymous"
        if not header or not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                user = proxy.user_of(self.headers.get("Authorization"))
                proxy.seen.append((self.path, user))
                proxy.authorization.append(self.headers.get("Authorization"))
                if user is not None and proxy.redirect_files and self.path.startswith("/files/"):
                    self.send_response(302)
                    self.send_header("Location", proxy.redirect_files + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if user is None:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, ctype, body = proxy.forward(self.path, self.headers.get("Accept", ""))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def forward(self, path: str, accept: str) -> tuple[int, str, bytes]:
        url = path if path.startswith("http://") else self.upstream.base + path
        request = urllib.request.Request(url, headers={"Accept": accept})
        try:
            with self.direct.open(request, timeout=10) as response:
                body = response.read()
                status, ctype = response.status, response.headers["Content-Type"]
        except urllib.error.HTTPError as exc:
            return exc.code, "text/plain", exc.read()
        return status, ctype, body.replace(self.upstream.base.encode(), self.base.encode())

    def __enter__(self) -> AuthProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(index: LoopbackIndex) -> Iterator[AuthProxy]:
    with AuthProxy(index, {USER: PASSWORD, "bob": "netrc-pw-7", "carol": PASSWORD}) as running:
        yield running


@pytest.fixture
def private_project(
    tmp_path: Path, proxy: AuthProxy, uv_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The pure project locked by real uv against the password-protected index."""
    creds = {"UV_INDEX_LOOPBACK_USERNAME": USER, "UV_INDEX_LOOPBACK_PASSWORD": PASSWORD}
    project = copy_project("pure", tmp_path / "pure", f"{proxy.base}/simple")
    lock(project, {**uv_env, **creds})
    for key, value in creds.items():
        monkeypatch.setenv(key, value)
    proxy.seen.clear()
    return project


def test_env_credentials_reach_the_index(private_project: Path, proxy: AuthProxy) -> None:
    result = fill_wheelhouse(make_plan(private_project, python=["3.12"]), private_project / "wh")
    assert result.fetched.files == 3
    files = [(path, user) for path, user in proxy.seen if path.startswith("/files/")]
    assert len(files) == 3 and all(user == USER for _, user in files)


def test_netrc_credentials_reach_the_index(
    private_project: Path, proxy: AuthProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UV_INDEX_LOOPBACK_USERNAME")
    monkeypatch.delenv("UV_INDEX_LOOPBACK_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password netrc-pw-7\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fill_wheelhouse(make_plan(private_project, python=["3.12"]), private_project / "wh")
    assert {user for path, user in proxy.seen if path.startswith("/files/")} == {"bob"}


def test_missing_credentials_fail_at_once_with_a_hint(
    private_project: Path, proxy: AuthProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_INDEX_LOOPBACK_PASSWORD", "wrong-password")
    with pytest.raises(FatalError) as caught:
        fill_wheelhouse(make_plan(private_project, python=["3.12"]), private_project / "wh")
    message = caught.value.message
    assert "HTTP 401" in message
    assert "set UV_INDEX_LOOPBACK_USERNAME and UV_INDEX_LOOPBACK_PASSWORD" in message
    assert "wrong-password" not in message
    paths = [path for path, _ in proxy.seen]
    assert len(paths) == len(set(paths))  # a 401 is not retried


def test_credentials_embedded_in_an_index_url_reach_the_index(
    private_project: Path, proxy: AuthProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UV_INDEX_LOOPBACK_USERNAME")
    monkeypatch.delenv("UV_INDEX_LOOPBACK_PASSWORD")
    monkeypatch.setenv("UV_INDEX", f"mirror=http://carol:{PASSWORD}@127.0.0.1:{proxy.port}/simple")
    fill_wheelhouse(make_plan(private_project, python=["3.12"]), private_project / "wh")
    assert {user for path, user in proxy.seen if path.startswith("/files/")} == {"carol"}


def test_mask_hides_user_info_and_known_passwords(private_project: Path) -> None:
    auth = load_auth(private_project)
    assert auth.mask(f"see http://carol:{PASSWORD}@127.0.0.1:1/x") == (
        "see http://carol:****@127.0.0.1:1/x"
    )
    assert auth.mask(f"token {PASSWORD} leaked") == "token **** leaked"


def test_env_name_follows_uv() -> None:
    assert env_name("internal-proxy") == "UV_INDEX_INTERNAL_PROXY"
    assert env_name("my.index") == "UV_INDEX_MY_INDEX"


def test_credentials_go_only_to_their_realm() -> None:
    creds = Credentials("u", "p")
    auth = Auth((Index("corp", normalize_url("https://pkgs.corp/simple/"), creds),))
    assert auth.for_url("https://pkgs.corp/files/a.whl", "https://pkgs.corp/simple") == creds
    assert auth.for_url("https://PKGS.corp/other/b.whl") == creds
    assert auth.for_url("https://cdn.example/files/a.whl", "https://pkgs.corp/simple") is None
    assert auth.for_url("http://pkgs.corp/files/a.whl") is None  # other scheme, other realm


def test_http_proxy_from_the_environment_is_used(
    locked_project: LockedProject, index: LoopbackIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = locked_project("pure")
    with AuthProxy(index, None) as proxy:
        for key in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(key, proxy.base)
        for key in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(key, "example.invalid")
        fill_wheelhouse(make_plan(project, python=["3.12"]), project / "wh")
    files = sorted(path.rsplit("/", 1)[-1] for path, _ in proxy.seen)
    assert files == sorted(
        ["alpha-1.1-py3-none-any.whl", "beta-2.0-py3-none-any.whl", "gamma-1.1-py3-none-any.whl"]
    )
    assert all(path.startswith(index.base) for path, _ in proxy.seen)


def _openssl(*args: str | Path) -> None:
    if subprocess.run(["openssl", *map(str, args)], capture_output=True).returncode != 0:
        pytest.skip("openssl cannot make test certificates here")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA cert, server cert, server key): a test CA and a 127.0.0.1 leaf it signed."""
    d = tmp_path_factory.mktemp("tls")
    ca, ca_key, cert, key, csr = (d / n for n in ("ca.pem", "ca.key", "c.pem", "c.key", "c.csr"))
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=uvci test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a CA needs its key usage.
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        ca_key,
        "-out",
        ca,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        key,
        "-out",
        csr,
    )
    ext = d / "ext.cnf"
    ext.write_text(
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        cert,
    )
    return ca, cert, key


@pytest.fixture
def tls_project(
    tmp_path: Path,
    index: LoopbackIndex,
    certificate: tuple[Path, Path, Path],
    uv_env: dict[str, str],
) -> Iterator[tuple[Path, AuthProxy]]:
    """The pure project locked by real uv against an HTTPS index whose CA only we know."""
    ca, cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with AuthProxy(index, None, tls=context) as front:
        project = copy_project("pure", tmp_path / "pure", f"{front.base}/simple")
        lock(project, {**uv_env, "SSL_CERT_FILE": str(ca)})
        yield project, front


def test_ssl_cert_file_is_trusted(
    tls_project: tuple[Path, AuthProxy],
    certificate: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, front = tls_project
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    front.seen.clear()
    result = fill_wheelhouse(make_plan(project, python=["3.12"]), project / "wh")
    assert result.fetched.files == 3 and len(front.seen) == 3


def test_ca_certificates_are_loaded_only_when_something_is_downloaded(
    tls_project: tuple[Path, AuthProxy],
    certificate: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    project, _ = tls_project
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    plan = make_plan(project, python=["3.12"])
    assert fill_wheelhouse(plan, project / "wh").fetched.files == 3
    missing = tmp_path / "missing-ca.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(missing))
    warm = fill_wheelhouse(plan, project / "wh")
    assert (warm.changed, warm.fetched.files, warm.reused.files) == (False, 0, 3)
    with pytest.raises(FatalError) as caught:
        fill_wheelhouse(plan, project / "cold")
    assert caught.value.message.startswith(f"{missing}: cannot load CA certificates")
    assert "SSL_CERT_FILE" in caught.value.message


def test_untrusted_certificate_is_a_clear_error(tls_project: tuple[Path, AuthProxy]) -> None:
    project, front = tls_project
    with pytest.raises(FatalError) as caught:
        fill_wheelhouse(make_plan(project, python=["3.12"]), project / "wh")
    assert f"TLS certificate of {front.base}/files/" in caught.value.message
    assert "SSL_CERT_FILE" in caught.value.message


def test_index_named_in_the_user_uv_toml_gets_its_env_credentials(
    private_project: Path, proxy: AuthProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UV_INDEX_LOOPBACK_USERNAME")
    monkeypatch.delenv("UV_INDEX_LOOPBACK_PASSWORD")
    config = tmp_path / "xdg" / "uv" / "uv.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[[index]]\nname = "corp-mirror"\nurl = "{proxy.base}/simple/"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("UV_INDEX_CORP_MIRROR_USERNAME", USER)
    monkeypatch.setenv("UV_INDEX_CORP_MIRROR_PASSWORD", PASSWORD)
    fill_wheelhouse(make_plan(private_project, python=["3.12"]), private_project / "wh")
    assert {user for path, user in proxy.seen if path.startswith("/files/")} == {USER}


def test_proxy_password_is_masked(private_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://px-user:px-pass-991@127.0.0.1:9")
    auth = load_auth(private_project)
    assert auth.mask("proxy said px-pass-991") == "proxy said ****"
    assert auth.mask(f"index password {PASSWORD}") == "index password ****"


def test_not_found_with_credentials_exits_2_naming_the_url_without_secrets(
    private_project: Path,
    proxy: AuthProxy,
    index: LoopbackIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UV_INDEX_LOOPBACK_USERNAME")
    monkeypatch.delenv("UV_INDEX_LOOPBACK_PASSWORD")
    monkeypatch.setenv("UV_INDEX", f"http://{USER}:{PASSWORD}@127.0.0.1:{proxy.port}/simple")
    index.fail("beta-2.0-py3-none-any.whl", status=404, times=None)
    rc = main(["prefetch", str(private_project), "--python", "3.12"])
    err = capsys.readouterr().err
    assert rc == 2
    assert (
        f"uvci prefetch: error: beta-2.0-py3-none-any.whl: HTTP 404 Not Found from "
        f"{proxy.base}/files/beta-2.0-py3-none-any.whl; the index no longer has this file"
    ) in err
    assert PASSWORD not in err and ("/files/", USER) in [(p[:7], u) for p, u in proxy.seen]


def test_redirected_download_does_not_carry_credentials_to_the_other_host(
    tmp_path: Path, index: LoopbackIndex, uv_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the index hands its files over to another host, as registries do to object storage
    with (
        AuthProxy(index, None) as storage,
        AuthProxy(index, {USER: PASSWORD}, redirect_files=storage.base) as front,
    ):
        creds = {"UV_INDEX_LOOPBACK_USERNAME": USER, "UV_INDEX_LOOPBACK_PASSWORD": PASSWORD}
        project = copy_project("pure", tmp_path / "pure", f"{front.base}/simple")
        lock(project, {**uv_env, **creds})
        for key, value in creds.items():
            monkeypatch.setenv(key, value)
        storage.seen.clear()
        storage.authorization.clear()
        result = fill_wheelhouse(make_plan(project, python=["3.12"]), project / "wh")
    assert result.fetched.files == 3
    assert sorted(path for path, _ in storage.seen) == [
        "/files/alpha-1.1-py3-none-any.whl",
        "/files/beta-2.0-py3-none-any.whl",
        "/files/gamma-1.1-py3-none-any.whl",
    ]
    assert storage.authorization == [None, None, None]
