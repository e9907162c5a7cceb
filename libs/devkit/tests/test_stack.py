import json

from ticketing_devkit.dev import _pretty
from ticketing_devkit.stack import DEMO_ADMIN, discover, seed_env, service_env


def test_services_are_discovered_from_their_pyproject() -> None:
    specs = {spec.name: spec for spec in discover()}
    auth = specs["auth"]
    assert auth.package == "ticketing_auth"
    assert auth.database == "auth"
    assert "/api/v1/auth" in auth.routes
    ports = [spec.dev_port for spec in specs.values()]
    assert len(ports) == len(set(ports)), "two services share a dev port"


def test_each_service_gets_its_peers_and_its_own_database() -> None:
    specs = discover()
    auth = next(spec for spec in specs if spec.name == "auth")
    env = service_env(auth, specs, {"LOG_LEVEL": "DEBUG"})
    assert env["DATABASE_URL"].endswith("/ticketing_auth")
    assert env["AUTH_URL"] == auth.url
    assert "JWKS_URL" not in env  # auth verifies with its own keys
    assert json.loads(env["SIGNING_KEYS"])[0]["kid"]
    assert json.loads(env["GATEWAY_ROUTES"])["/api/v1/auth"] == auth.url
    assert env["LOG_LEVEL"] == "DEBUG"


def test_json_log_lines_are_rendered_for_humans() -> None:
    line = (
        b'{"ts":"2026-11-26T03:12:39.000Z","level":"info","service":"auth",'
        b'"logger":"x","msg":"hi","n":1}'
    )
    assert _pretty(line) == "03:12:39 INFO    hi n=1"
    assert _pretty(b"plain text\n") == "plain text"


def test_seed_jobs_get_the_demo_admin_and_services_do_not() -> None:
    specs = discover()
    auth = next(spec for spec in specs if spec.name == "auth")
    env = seed_env(auth, specs)
    assert (env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"]) == DEMO_ADMIN
    assert env["AUTH_URL"] == auth.url
    others = [spec for spec in specs if spec.name != "auth"]
    assert all("ADMIN_PASSWORD" not in service_env(spec, specs, {}) for spec in others)
