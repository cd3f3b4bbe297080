"""store.remote: every run pushes the snapshot repo (never forced); a rejected push loses nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cfgwatch.config import load_config
from cfgwatch.errors import ConfigError
from cfgwatch.project import Project, init_project
from cfgwatch.store.remote import PASSWORD_VAR, push_environment
from cfgwatch.store_settings import RemoteSettings


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _project(tmp_path: Path, remote: str) -> tuple[Project, Path]:
    folder = tmp_path / "project"
    init_project(folder)
    config = folder / "cfgwatch.yaml"
    config.write_text(config.read_text() + f"store:\n  remote:\n    url: {remote}\n")
    saved = folder / "saved"
    saved.mkdir()
    (saved / "edge1.cfg").write_text("hostname edge1\nip access-list extended OUT\n 10 permit ip any any\n")
    return Project.open(config), saved


def test_push_after_each_run_and_a_rejected_push_loses_nothing(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(remote))
    project, saved = _project(tmp_path, "../remote.git")  # relative to the project folder

    first = project.import_dir(saved, platform="cisco_ios")
    assert first.push is not None and first.push.state == "pushed", first.push
    assert git("--git-dir", str(remote), "rev-parse", "main") == first.run.commit

    # someone else pushes to the remote branch: it moves ahead of ours
    other = tmp_path / "other"
    git("clone", "-q", str(remote), str(other))
    (other / "NOTE.md").write_text("hand-made commit\n")
    git("add", "NOTE.md", cwd=other)
    git("-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "theirs", cwd=other)
    git("push", "-q", "origin", "HEAD:main", cwd=other)
    theirs = git("rev-parse", "HEAD", cwd=other)

    (saved / "edge1.cfg").write_text("hostname edge1\nip access-list extended OUT\n 10 permit tcp any any eq 443\n")
    second = project.import_dir(saved, platform="cisco_ios")
    assert second.run.commit is not None
    assert second.push is not None and second.push.state == "rejected" and not second.push.ok
    assert "local commit is kept" in second.push.detail
    assert git("--git-dir", str(remote), "rev-parse", "main") == theirs  # not forced over
    assert project.store.resolve("HEAD") == second.run.commit  # ours is kept
    assert "10 permit tcp any any eq 443" in project.store.read("edge1")

    # the next run (nothing changed) retries and is rejected again: still reported
    third = project.import_dir(saved, platform="cisco_ios")
    assert third.run.commit is None and third.push is not None and third.push.state == "rejected"

    # once the remote is fast-forwardable again (here: the stray commit is removed), the next run pushes
    git("--git-dir", str(remote), "update-ref", "refs/heads/main", str(first.run.commit))
    fourth = project.import_dir(saved, platform="cisco_ios")
    assert fourth.push is not None and fourth.push.state == "pushed"
    assert git("--git-dir", str(remote), "rev-parse", "main") == second.run.commit
    again = project.import_dir(saved, platform="cisco_ios")
    assert again.push is not None and again.push.state == "up-to-date"
    # the remote URL never went into the repository's config
    config = (project.store.git_dir / "config").read_text()
    assert "remote.git" not in config and "[remote" not in config


def test_cli_import_reports_a_failed_push_with_exit_1(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    project, saved = _project(tmp_path, str(tmp_path / "missing.git"))
    code, out, err = cli("import", str(saved), "--platform", "cisco_ios", cwd=project.config.base_dir)
    assert code == 1
    assert "committed" in out and "push FAILED" in err
    assert project.store.runs()  # the run is committed regardless


def test_https_credentials_never_reach_argv_config_or_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNAP_TOKEN", "s3cr3t-token-value")
    settings = RemoteSettings.model_validate(
        {"url": "https://git.example.net/snapshots.git", "username": "cfgwatch", "password": {"env": "SNAP_TOKEN"}}
    )
    options, env, hidden = push_environment(settings, tmp_path)
    assert "s3cr3t-token-value" not in " ".join(options)
    assert env[PASSWORD_VAR] == "s3cr3t-token-value" and hidden == ("s3cr3t-token-value",)
    assert options[:2] == ["-c", "credential.helper="]  # the user's stored helpers are not consulted or fed
    # git itself asks the helper, as a push would, and gets the login from the environment
    filled = subprocess.run(
        ["git", *options, "credential", "fill"], input="protocol=https\nhost=git.example.net\n\n",
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "username=cfgwatch\n" in filled and "password=s3cr3t-token-value\n" in filled
    # a push that fails (nobody serves that host) reports without the token
    from cfgwatch.store.remote import push

    project, _ = _project(tmp_path, str(tmp_path / "unused.git"))
    result = push(project.store.git_dir, "refs/heads/main", settings, tmp_path)
    assert result.state == "up-to-date" and result.commit is None  # no runs yet: nothing offered


def test_remote_settings_refuse_passwords_in_urls_and_bad_branches(tmp_path: Path) -> None:
    config = tmp_path / "cfgwatch.yaml"
    config.write_text("store:\n  remote:\n    url: https://bob:hunter2@git.example.net/x.git\n")
    with pytest.raises(ConfigError, match="no password in the URL") as err:
        load_config(config)
    assert "hunter2" not in str(err.value)
    config.write_text("store:\n  remote:\n    url: /srv/x.git\n    branch: '--force'\n")
    with pytest.raises(ConfigError, match="branch"):
        load_config(config)
    config.write_text("store:\n  remote:\n    url: git@host:x.git\n    ssh_key: keys/push\n")
    ssh = load_config(config).store.remote
    assert ssh is not None
    _, env, _ = push_environment(ssh, tmp_path)
    command = env["GIT_SSH_COMMAND"]
    assert "StrictHostKeyChecking=yes" in command and str(tmp_path / "keys/push") in command


def test_nightly_reports_a_failed_push_as_a_stage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfgwatch.nightly import run_nightly

    project, saved = _project(tmp_path, str(tmp_path / "missing.git"))
    project.import_dir(saved, platform="cisco_ios")  # a commit to push
    monkeypatch.setenv("CFGWATCH_USERNAME", "u")  # what init's defaults.yaml names
    monkeypatch.setenv("CFGWATCH_PASSWORD", "pw")
    (project.config.inventory_path / "hosts.yaml").write_text(
        "edge1:\n  hostname: 127.0.0.1\n  port: 1\n  platform: cisco_ios\n  data:\n    known_hosts: no-such-file\n"
    )
    result = run_nightly(project.config, send=False)
    assert [e.stage for e in result.errors] == ["push"], result.errors
    assert result.exit_code == 2 and "error in push: push FAILED" in result.summary()


def test_a_replayed_history_is_pushed_once_at_the_end(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(remote))
    project, _ = _project(tmp_path, str(remote))
    backups = tmp_path / "oxidized"
    backups.mkdir()
    git("init", "-q", "-b", "master", cwd=backups)
    for n in range(2):
        (backups / "edge1").write_text(f"hostname edge1\nip access-list extended OUT\n {n + 10} permit ip any any\n")
        git("add", "edge1", cwd=backups)
        git("-c", "user.name=ox", "-c", "user.email=ox@x", "commit", "-qm", f"change {n}", cwd=backups)
    result = project.import_git(backups, platform="cisco_ios")
    assert result.runs == 2 and result.push is not None and result.push.state == "pushed", result
    assert git("--git-dir", str(remote), "rev-parse", "main") == project.store.resolve("HEAD")
    assert len(git("--git-dir", str(remote), "log", "--format=%H", "main").splitlines()) == 2


class _GitHttp:
    """git's smart HTTP protocol on 127.0.0.1: `git http-backend` (CGI) behind HTTP basic auth."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        import base64
        import threading
        from wsgiref.simple_server import WSGIRequestHandler, make_server

        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.logins: list[bool] = []

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        self.server = make_server("127.0.0.1", 0, self.app, handler_class=Quiet)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def app(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        given = environ.get("HTTP_AUTHORIZATION")
        if given != self.expected:
            if given is not None:
                self.logins.append(False)
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"login required\n"]
        self.logins.append(True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        cgi_env = {
            "PATH": "/usr/bin:/bin", "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "pusher", "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ["PATH_INFO"], "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""), "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": environ.get("HTTP_CONTENT_ENCODING", ""),
        }  # fmt: skip
        out = subprocess.run(["git", "http-backend"], input=body, env=cgi_env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        headers = [tuple(line.decode().split(": ", 1)) for line in head.split(b"\r\n") if b": " in line]
        status = next((v for k, v in headers if k.lower() == "status"), "200 OK")
        start_response(status, [(k, v) for k, v in headers if k.lower() != "status"])
        return [payload]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_push_over_http_with_a_token_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = tmp_path / "srv" / "snapshots.git"
    git("init", "-q", "--bare", "-b", "main", str(remote))
    server = _GitHttp(tmp_path / "srv", "cfgwatch", "tok-RIGHT-123")
    try:
        url = f"http://127.0.0.1:{server.port}/snapshots.git"
        project, saved = _project(tmp_path, url)
        config = project.config_file
        assert config is not None
        config.write_text(config.read_text() + "    username: cfgwatch\n    password: {env: SNAP_TOKEN}\n")
        monkeypatch.setenv("SNAP_TOKEN", "tok-WRONG-456")
        project = Project.open(config)
        bad = project.import_dir(saved, platform="cisco_ios")
        assert bad.push is not None and bad.push.state == "failed" and "tok-WRONG-456" not in bad.push.text()
        assert server.logins and not any(server.logins)  # the wrong token reached the server, and was refused

        monkeypatch.setenv("SNAP_TOKEN", "tok-RIGHT-123")
        good = project.push()
        assert good is not None and good.state == "pushed", good
        assert git("--git-dir", str(remote), "rev-parse", "main") == bad.run.commit  # the earlier run, retried
        assert "tok-" not in (project.store.git_dir / "config").read_text()
    finally:
        server.stop()
