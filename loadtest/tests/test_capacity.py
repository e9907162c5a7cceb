"""The capacity model's arithmetic: the mix, the fan-out, vCPU and tasks per service."""

from __future__ import annotations

import dataclasses

import pytest
from ticketing_loadtest import capacity, mix
from ticketing_loadtest.capacity import Measurement, needs, tasks_for
from ticketing_loadtest.mix import Call, Flow, PublicRequest, operation_rates, request_shares


def test_shares_weight_each_flows_requests_by_the_flows_weight() -> None:
    flows = (Flow("a", 3, {"x": 1, "y": 2}), Flow("b", 1, {"y": 1, "z": 4}))
    # x: 3, y: 3 x 2 + 1 = 7, z: 4 -> 14 requests
    assert request_shares(flows) == pytest.approx({"x": 3 / 14, "y": 7 / 14, "z": 4 / 14})
    assert sum(request_shares().values()) == pytest.approx(1)
    with pytest.raises(ValueError, match="no requests"):
        request_shares((Flow("none", 1, {}),))


def test_the_fan_out_sends_each_request_to_every_service_it_reaches() -> None:
    requests = {
        "book": PublicRequest(
            "POST", "/b", (Call("gw", "proxy"), Call("bk", "create"), Call("inv", "get"))
        ),
        "hold": PublicRequest("POST", "/h", (Call("gw", "proxy"), Call("inv", "hold"))),
    }
    rates = operation_rates(1000, {"book": 0.25, "hold": 0.75}, requests)
    assert rates == pytest.approx(
        {("gw", "proxy"): 1000, ("bk", "create"): 250, ("inv", "get"): 250, ("inv", "hold"): 750}
    )
    with pytest.raises(KeyError, match="no fan-out"):
        operation_rates(1000, {"unknown": 1.0}, requests)


def test_every_request_of_the_mix_has_a_fan_out_through_the_gateway() -> None:
    for flow in mix.FLOWS:
        for kind in flow.requests:
            assert mix.PUBLIC_REQUESTS[kind].calls[0] == mix.GATEWAY
    booking = {(c.service, c.operation) for c in mix.PUBLIC_REQUESTS["booking.create"].calls}
    assert {("inventory", "hold-get"), ("payment", "create")} <= booking
    assert mix.locust_weights() == {f.name: f.weight for f in mix.FLOWS if f.name != "login"}


def test_tasks_cover_the_vcpu_at_the_target_utilisation() -> None:
    # 0.5 vCPU tasks at 70 %: each carries 0.35 vCPU of work.
    assert tasks_for(1.4) == 4
    assert tasks_for(1.41) == 5
    assert tasks_for(0.1, minimum=3) == 3
    assert tasks_for(2.0, utilisation=1.0) == 4
    with pytest.raises(ValueError, match="utilisation"):
        tasks_for(1, utilisation=0)


def test_needs_per_service_from_measured_per_core_throughput() -> None:
    requests = {
        "read": PublicRequest("GET", "/r", (Call("gw", "proxy"), Call("ev", "get"))),
        "write": PublicRequest(
            "POST",
            "/w",
            (Call("gw", "proxy"), Call("ev", "put", measured_as="ev/get"), Call("nt", "send")),
        ),
    }
    measured = {
        "gw/proxy": Measurement("gw", "proxy", rps=2000, baseline_rps=20000),
        # The server spent 1 CPU-second per 500 requests while 400 req/s came back (waiting on
        # peers): the model counts the CPU.
        "ev/get": Measurement("ev", "get", rps=400, baseline_rps=20000, cpu_rps=500),
    }
    result = {
        n.service: n
        for n in needs(
            10_000,
            measured,
            shares={"read": 0.8, "write": 0.2},
            requests=requests,
            seed={"gw": (2, 10), "ev": (2, 8), "nt": (2, 6)},
        )
    }
    assert result["gw"].rps == 10_000
    assert result["gw"].vcpu == pytest.approx(5.0)
    assert result["gw"].tasks == 15
    assert not result["gw"].fits
    assert result["ev"].vcpu == pytest.approx((8000 + 2000) / 500)
    assert result["ev"].tasks == 58
    assert result["nt"].unmeasured == ("send",)
    assert result["nt"].tasks == 2
    assert measured["gw/proxy"].ratio == pytest.approx(0.1)
    assert measured["gw/proxy"].per_core == 2000


def test_the_rendered_tables_show_the_figures() -> None:
    measured = {"gw/proxy": Measurement("gw", "proxy", 2000, 20000, "30ms", "GET /x", 2100)}
    table = capacity.render_measurements(measured)
    assert "| gw/proxy | GET /x | 2,000 | 20,000 | 0.100 | 30ms | 2,100 |" in table
    need = capacity.ServiceNeed("gw", 10_000, 4.76, 14, 2, 10, ())
    rendered = capacity.render_needs(10_000, [need])
    assert "| gw | 10,000 | 4.76 | 14 | 2-10 | **over the seed's max by 4** |" in rendered
    roomy = capacity.ServiceNeed("gw", 10_000, 1.2, 4, 2, 10, ())
    assert roomy.headroom == pytest.approx(0.6)
    behind = capacity.ServiceNeed("gw", 4_000, 0.6, 2, 2, 10, ())
    both = capacity.render_needs(10_000, [need, roomy], [behind, behind], edge_hit_ratio=0.9)
    assert "with 90% edge hits" in both
    assert "| gw | 10,000 | 1.20 | 4 | 2-10 | fits, 60% headroom | 4,000 | 0.60 | 2 |" in both
    assert "| **total** |  | **5.96** | 18 |  |  |  | **1.20** | 4 |  |" in both
    tight = capacity.ServiceNeed("gw", 10_000, 2.4, 8, 2, 10, ())
    assert "fits, **20% headroom**" in capacity.render_needs(10_000, [tight])


def test_on_a_busy_machine_figures_scale_by_their_own_runs_hello() -> None:
    busy = Measurement("gw", "proxy", 900, 9_000, "40ms", "GET /x", 1_000, reference_hello=36_000)
    assert busy.measured_per_core == 1_000
    assert busy.per_core == pytest.approx(4_000)  # a hello at a quarter of the reference
    table = capacity.render_measurements({"gw/proxy": busy})
    assert "scaled to a 36,000 req/s hello (used by the model)" in table
    assert (
        "| gw/proxy | GET /x | 900 | 9,000 | 0.100 | 40ms | 1,000 | not sampled | 4,000 |" in table
    )
    # With the hello's own CPU sampled, CPU-seconds are compared with CPU-seconds: a hello that
    # got a fifth of a contended core still did 30,000 per CPU-second.
    sampled = dataclasses.replace(busy, baseline_cpu_rps=30_000)
    assert sampled.per_core == pytest.approx(1_200)


def test_a_cdn_takes_its_hits_off_the_origin_and_nothing_else() -> None:
    shares = {"events.get": 0.5, "booking.get": 0.5}
    plain = operation_rates(10_000, shares)
    cached = operation_rates(10_000, shares, edge_hit_ratio=0.9)
    assert plain[("events", "get")] == pytest.approx(5_000)
    assert cached[("events", "get")] == pytest.approx(500)
    assert cached[("booking", "get")] == plain[("booking", "get")] == pytest.approx(5_000)
    assert cached[("api-gateway", "proxy")] == pytest.approx(5_500)
    assert not mix.PUBLIC_REQUESTS["booking.get"].edge_cacheable
    with pytest.raises(ValueError, match="hit ratio"):
        operation_rates(10_000, shares, edge_hit_ratio=1)


def test_the_waiting_room_is_sized_from_the_crowds_arrival_rate() -> None:
    # 100 people a second for a minute, 600 admitted a minute (10/s): 5,400 wait at the peak.
    poll = Measurement("api-gateway", "room-poll", rps=5000, baseline_rps=20000, cpu_rps=8000)
    load = capacity.room_load(100, 60, 600, {poll.key: poll})
    assert load.peak_waiting == 5400
    assert load.arrivals == 6000
    assert load.admitted_per_s == 10
    # Everyone polls every 2-30 s, about four times over their wait: bounded by N/2 and N/30.
    assert 5400 / 30 < load.peak_polls_per_s < 5400 / 2
    assert load.peak_polls_per_s == pytest.approx(capacity.polls_per_second(5400, 600))
    assert load.vcpu == pytest.approx((100 + load.peak_polls_per_s) / 8000)
    # The front of the queue polls every 2 s, the back every 30 s.
    assert capacity.poll_interval(1, 600) == 2
    assert capacity.poll_interval(5000, 600) == 30
    assert capacity.poll_interval(400, 600) == 10
    # Without a measurement the table says so rather than pretending it is free.
    unmeasured = capacity.room_load(100, 60, 600, {})
    assert not unmeasured.measured
    assert "not measured" in capacity.render_room([unmeasured])
    assert "5,400" in capacity.render_room([load])
    # A crowd slower than the admissions never waits.
    assert capacity.room_load(5, 60, 600, {}).peak_waiting == 0
