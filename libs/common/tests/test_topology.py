"""Reading the topology the services declare: what a table must say, and services that do not fit
together refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ticketing_common import topology
from ticketing_common.topology import TopologyError


def service(name: str, port: int, **table: Any) -> topology.Service:
    return topology.parse(
        name, {"app": f"ticketing_{name}.main:create_app", "dev-port": port, **table}
    )


def write(root: Path, name: str, table: str) -> None:
    folder = root / "services" / name
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "ticketing-{name}"\n\n{table}')


def test_a_table_is_read_with_its_defaults() -> None:
    events = service("events", 8002, routes=["/api/v1/events"], peers=["auth"])
    assert events.package == "ticketing_events"
    assert events.distribution == "ticketing-events"
    assert events.routes == ("/api/v1/events",)
    assert events.scaling == topology.Scaling(*topology.DEFAULT_TASKS)
    assert events.dev_url == "http://127.0.0.1:8002"
    assert events.env_prefix == "EVENTS"
    assert service("api-gateway", 8000).env_prefix == "API_GATEWAY"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"dev-port": 1}, "needs `app`"),
        (
            {"app": "x:y", "dev-port": 1, "rutes": []},
            r"unknown \[tool.ticketing\] keys \['rutes'\]",
        ),
        ({"app": "x:y", "dev-port": 1, "peers": "auth"}, "`peers` must be a list"),
        ({"app": "x:y", "dev-port": 1, "database": "x"}, "runs `migrate` in `setup`"),
        ({"app": "x:y", "dev-port": 1, "tasks": {"min": 3, "max": 2}}, "min <= max"),
    ],
)
def test_a_table_that_does_not_say_what_a_service_is_is_refused(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(TopologyError, match=message):
        topology.parse("x", table)


def test_services_that_do_not_fit_together_are_refused() -> None:
    auth = service("auth", 8001, jwks="/jwks")
    with pytest.raises(TopologyError, match="calls unknown service 'mail'"):
        topology.check([auth, service("events", 8002, peers=["mail"])])
    with pytest.raises(TopologyError, match="share dev port 8001"):
        topology.check([auth, service("events", 8001)])
    with pytest.raises(TopologyError, match="claimed by a and b"):
        topology.check([service("a", 1, routes=["/x"]), service("b", 2, routes=["/x"])])
    with pytest.raises(TopologyError, match="form a cycle"):
        topology.check([service("a", 1, peers=["b"]), service("b", 2, peers=["a"])])
    # A late peer is called once running, never waited for: no cycle.
    topology.check([service("a", 1, peers=["b"]), service("b", 2, **{"late-peers": ["a"]})])


def test_services_start_in_waves_after_their_peers() -> None:
    services = [
        service("auth", 1),
        service("inventory", 2, peers=["auth"], **{"late-peers": ["booking"]}),
        service("booking", 3, peers=["auth", "inventory"]),
        service("payment", 4, peers=["auth"]),
    ]
    waves = [[s.name for s in wave] for wave in topology.start_order(services)]
    assert waves == [["auth"], ["inventory", "payment"], ["booking"]]


def test_the_edge_routes_every_service_that_owns_routes(tmp_path: Path) -> None:
    write(
        tmp_path, "auth", '[tool.ticketing]\napp = "a:b"\ndev-port = 1\nroutes = ["/api/v1/auth"]\n'
    )
    write(
        tmp_path, "events", '[tool.ticketing]\napp = "a:b"\ndev-port = 2\nroutes = ["/api/v1/e"]\n'
    )
    write(
        tmp_path,
        "gw",
        '[tool.ticketing]\napp = "a:b"\ndev-port = 3\nedge = true\npeers = ["auth"]\n',
    )
    write(tmp_path, "tool", '[project]\nname = "not a service"\n'.replace("[project]", "[tool.x]"))
    services = {s.name: s for s in topology.discover(tmp_path)}
    assert set(services) == {"auth", "events", "gw"}  # a folder without the table is no service
    assert services["gw"].peers == ("auth",)
    assert services["gw"].late_peers == ()
    assert services["gw"].routes_to == ("auth", "events")  # called, never waited for
    assert services["gw"].calls == ("auth", "events")
    assert topology.gateway_routes(list(services.values()), "http://{service}:8000") == {
        "/api/v1/auth": "http://auth:8000",
        "/api/v1/e": "http://events:8000",
    }


def test_the_gateway_routes_command_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path, "auth", '[tool.ticketing]\napp = "a:b"\ndev-port = 1\nroutes = ["/api/v1/auth"]\n'
    )
    topology.main(["gateway-routes", str(tmp_path), "http://{service}.local:8000"])
    assert json.loads(capsys.readouterr().out) == {"/api/v1/auth": "http://auth.local:8000"}
