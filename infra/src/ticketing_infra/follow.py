"""Following a release's ECS deployments until they are live, then through the bake.

- **Rolling** services: the deployment update-service started (by id, in describe-services) must
  reach `COMPLETED` with the service on the new revision. After the circuit breaker (or an alarm)
  rolls a service back it is stable again on the old revision, with that deployment gone: a
  failure, not a success.
- **Blue/green** services: the service deployment (list/describe-service-deployments) is followed
  through its lifecycle stages, each printed as it starts: green scales up, production traffic
  shifts to it, then the bake time. It is *live* from the production shift on, *done* when
  `SUCCESSFUL`; ECS itself rolls it back (to blue, whose tasks are still up) when the circuit
  breaker or a deployment alarm trips, which ends as `ROLLBACK_*`.
- **The bake**: while blue/green deployments bake, and for the bake time after the smoke in any
  case, the edge alarms are watched; one that goes into ALARM after the watch began fails the
  release (a rolling service's change can break the API as surely as the gateway's).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ticketing_infra import catalog
from ticketing_infra.progress import Progress
from ticketing_infra.rollout import ServicePlan, TaskPlacement, revision_of

# Lifecycle stages in the order ECS runs them, with what they mean for a person watching.
STAGES = {
    "RECONCILE_SERVICE": "reconciling the service",
    "PRE_SCALE_UP": "about to start green",
    "SCALE_UP": "starting green tasks",
    "POST_SCALE_UP": "green tasks running",
    "TEST_TRAFFIC_SHIFT": "test traffic to green",
    "POST_TEST_TRAFFIC_SHIFT": "test traffic on green",
    "PRODUCTION_TRAFFIC_SHIFT": "shifting production traffic to green",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "production traffic on green",
    "BAKE_TIME": "baking (blue kept for an instant rollback)",
    "CLEAN_UP": "cleaning up blue",
}
LIVE_STAGES = {"POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"}
ROLLED_BACK = {"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"}
FAILED = ROLLED_BACK | {"ROLLBACK_FAILED", "STOPPED", "STOP_REQUESTED"}
# Clock skew allowance when finding the service deployment update-service started.
SKEW = timedelta(minutes=2)


@dataclass
class Outcome:
    failed: list[ServicePlan]  # empty: all went well


class Follower:
    def __init__(
        self,
        aws: Any,
        placement: TaskPlacement,
        progress: Progress,
        *,
        poll_seconds: float,
        timeout_s: float,
    ) -> None:
        self.aws = aws
        self.ecs = aws.ecs
        self.placement = placement
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s
        self._stages: dict[str, str] = {}  # service -> last stage printed

    # -- until live ----------------------------------------------------------------------

    def until_live(self, plans: Sequence[ServicePlan]) -> Outcome:
        """Until every rolling service COMPLETED and every blue/green one carries production
        traffic on green (or finished), or something failed, or the timeout."""
        waiting = [p for p in plans if p.deployment_id]
        failed: list[ServicePlan] = []
        deadline = time.monotonic() + self.timeout_s
        while waiting:
            still = []
            rolling = [p for p in waiting if not p.blue_green]
            described = self._describe_services([p.name for p in rolling]) if rolling else {}
            for plan in waiting:
                verdict = (
                    self._blue_green_live(plan)
                    if plan.blue_green
                    else self._rolling(plan, described.get(plan.name, {}))
                )
                if verdict is None:
                    still.append(plan)
                elif verdict is False:
                    failed.append(plan)
            waiting = still
            if failed:
                return Outcome(failed)
            if waiting and time.monotonic() > deadline:
                for plan in waiting:
                    self.progress.fail(f"{plan.name}: not live within {self.timeout_s:.0f}s")
                return Outcome(waiting)
            if waiting:
                time.sleep(self.poll_seconds)
        return Outcome([])

    def _rolling(self, plan: ServicePlan, service: dict[str, Any]) -> bool | None:
        deployment = next(
            (d for d in service.get("deployments", []) if d["id"] == plan.deployment_id), None
        )
        if deployment is None:
            self.progress.fail(
                f"{plan.name}: rolloutState GONE: the deployment was replaced "
                "(ECS rolled the service back)"
            )
            return False
        state = deployment.get("rolloutState")
        if state == "COMPLETED" and service.get("taskDefinition") == plan.new_arn:
            self.progress.ok(f"{plan.name}: {revision_of(plan.new_arn)} rolled out")
            return True
        if state == "FAILED":
            reason = deployment.get("rolloutStateReason", "")
            self.progress.fail(f"{plan.name}: rolloutState FAILED: {reason}".rstrip(": "))
            return False
        return None

    def _blue_green_live(self, plan: ServicePlan) -> bool | None:
        deployment = self._service_deployment(plan)
        if deployment is None:
            return None  # not listed yet
        status = deployment["status"]
        if status in FAILED:
            self._report_failure(plan, deployment)
            return False
        if status == "SUCCESSFUL":
            self.progress.ok(f"{plan.name}: {revision_of(plan.new_arn)} live on green, bake done")
            plan.baked = True
            return True
        if deployment.get("lifecycleStage") in LIVE_STAGES:
            self.progress.ok(f"{plan.name}: {revision_of(plan.new_arn)} takes production traffic")
            return True
        return None

    # -- the bake ------------------------------------------------------------------------

    def through_bake(self, plans: Sequence[ServicePlan], bake_s: float) -> Outcome:
        """Until every blue/green deployment is SUCCESSFUL and `bake_s` has passed, watching
        the edge alarms; the first alarm that fires (or a rollback ECS started) fails it."""
        updated = [p for p in plans if p.deployment_id]
        baseline = self._alarm_states()
        ends = time.monotonic() + bake_s
        deadline = time.monotonic() + max(self.timeout_s, bake_s)
        self.progress.item(
            f"watching {', '.join(catalog.DEPLOYMENT_ALARMS)} for {bake_s / 60:.0f} min"
            + (
                f"; {', '.join(p.name for p in updated if p.blue_green)} bake on blue/green"
                if any(p.blue_green for p in updated)
                else ""
            )
        )
        last_report = time.monotonic()
        while True:
            fired = self._fired_alarms(baseline)
            if fired:
                for alarm in fired:
                    self.progress.fail(
                        f"alarm {alarm['AlarmName']}: {alarm.get('StateReason', '')}"
                    )
                return Outcome(updated)
            baking = [p for p in updated if p.blue_green and not p.baked]
            for plan in baking:
                deployment = self._service_deployment(plan)
                if deployment is None:
                    continue
                if deployment["status"] in FAILED:
                    self._report_failure(plan, deployment)
                    return Outcome([plan])
                if deployment["status"] == "SUCCESSFUL":
                    plan.baked = True
                    self.progress.ok(f"{plan.name}: bake done, blue removed")
            rolled_back = self._rolled_back_rolling([p for p in updated if not p.blue_green])
            if rolled_back:
                return Outcome(rolled_back)
            now = time.monotonic()
            if now >= ends and all(p.baked for p in updated if p.blue_green):
                self.progress.ok("bake passed: no alarm fired")
                return Outcome([])
            if now > deadline:
                late = [p for p in updated if p.blue_green and not p.baked]
                for plan in late:
                    self.progress.fail(f"{plan.name}: bake not finished within the timeout")
                return Outcome(late)
            if now - last_report >= 60:
                left = max(0.0, ends - now)
                self.progress.item(f"baking: {left / 60:.0f} min left, alarms OK")
                last_report = now
            time.sleep(self.poll_seconds)

    def _alarm_states(self) -> dict[str, dict[str, Any]]:
        if not catalog.DEPLOYMENT_ALARMS:
            return {}
        alarms = self.aws.client("cloudwatch").describe_alarms(
            AlarmNames=list(catalog.DEPLOYMENT_ALARMS)
        )["MetricAlarms"]
        return {a["AlarmName"]: a for a in alarms}

    def _fired_alarms(self, baseline: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Alarms in ALARM that were not, or went into it again, since the watch began (one
        already firing when the release started, say for the incident it fixes, does not count
        until it recovers and fires again)."""
        fired = []
        for name, alarm in self._alarm_states().items():
            before = baseline.get(name, {})
            if alarm["StateValue"] == "ALARM" and (
                before.get("StateValue") != "ALARM"
                or alarm["StateUpdatedTimestamp"] != before.get("StateUpdatedTimestamp")
            ):
                fired.append(alarm)
        return fired

    def _rolled_back_rolling(self, plans: Sequence[ServicePlan]) -> list[ServicePlan]:
        if not plans:
            return []
        described = self._describe_services([p.name for p in plans])
        back = [p for p in plans if described.get(p.name, {}).get("taskDefinition") != p.new_arn]
        for plan in back:
            self.progress.fail(f"{plan.name}: ECS put it back on another revision during the bake")
        return back

    # -- rolling back --------------------------------------------------------------------

    def take_back(self, plan: ServicePlan) -> bool:
        """Have ECS shift a blue/green deployment back to blue: stop it with ROLLBACK while it is
        in flight (live, baking); nothing to ask when ECS is rolling it back already. False when
        it finished (or was never found): then only a new deployment of the old revision helps."""
        deployment = self._service_deployment(plan)
        if deployment is None:
            return False
        status = deployment["status"]
        if status in ROLLED_BACK | {"ROLLBACK_FAILED"}:
            return True
        if status in {"SUCCESSFUL", "STOPPED", "STOP_REQUESTED"}:
            return False
        self.ecs.stop_service_deployment(
            serviceDeploymentArn=plan.service_deployment_arn, stopType="ROLLBACK"
        )
        self.progress.item(f"{plan.name}: traffic back to blue ({revision_of(plan.current_arn)})")
        return True

    def wait_rolled_back(self, plans: Sequence[ServicePlan]) -> bool:
        """Until ECS finished shifting these blue/green deployments back; True when all did."""
        waiting = list(plans)
        deadline = time.monotonic() + self.timeout_s
        ok = True
        while waiting:
            still = []
            for plan in waiting:
                deployment = self._service_deployment(plan)
                status = deployment["status"] if deployment else "?"
                if status == "ROLLBACK_SUCCESSFUL":
                    self.progress.ok(f"{plan.name}: back on {revision_of(plan.current_arn)}")
                elif status in {"ROLLBACK_FAILED", "STOPPED"}:
                    self.progress.fail(f"{plan.name}: rollback {status}: check the ECS console")
                    ok = False
                else:
                    still.append(plan)
            waiting = still
            if waiting and time.monotonic() > deadline:
                for plan in waiting:
                    self.progress.fail(f"{plan.name}: rollback not finished: check the ECS console")
                return False
            if waiting:
                time.sleep(self.poll_seconds)
        return ok

    # -- ECS -----------------------------------------------------------------------------

    def _service_deployment(self, plan: ServicePlan) -> dict[str, Any] | None:
        """The service deployment of this release's revision (found once, then described)."""
        if plan.service_deployment_arn is None:
            plan.service_deployment_arn = self._find_service_deployment(plan)
            if plan.service_deployment_arn is None:
                return None
        [deployment] = self.ecs.describe_service_deployments(
            serviceDeploymentArns=[plan.service_deployment_arn]
        )["serviceDeployments"]
        self._report_stage(plan, deployment)
        return dict(deployment)

    def _find_service_deployment(self, plan: ServicePlan) -> str | None:
        assert plan.update_started is not None
        listed = self.ecs.list_service_deployments(
            cluster=self.placement.cluster,
            service=plan.name,
            createdAt={"after": plan.update_started - SKEW},
        )["serviceDeployments"]
        for brief in sorted(listed, key=lambda b: b["createdAt"], reverse=True):
            [revision] = self.ecs.describe_service_revisions(
                serviceRevisionArns=[brief["targetServiceRevisionArn"]]
            )["serviceRevisions"]
            if revision["taskDefinition"] == plan.new_arn:
                arn: str = brief["serviceDeploymentArn"]
                return arn
        return None

    def _report_stage(self, plan: ServicePlan, deployment: dict[str, Any]) -> None:
        stage = deployment.get("lifecycleStage")
        if not stage or self._stages.get(plan.name) == stage:
            return
        self._stages[plan.name] = stage
        target = deployment.get("targetServiceRevision", {})
        tasks = ""
        if "requestedTaskCount" in target:
            tasks = f" ({target.get('runningTaskCount', 0)}/{target['requestedTaskCount']} tasks)"
        what = STAGES.get(stage, stage.lower())
        if deployment.get("status") in ROLLED_BACK:
            what = f"rolling back to blue ({stage.lower().replace('_', ' ')})"
        self.progress.item(f"{plan.name}: {what}{tasks}")

    def _report_failure(self, plan: ServicePlan, deployment: dict[str, Any]) -> None:
        reasons = []
        alarms = deployment.get("alarms", {})
        if alarms.get("status") == "TRIGGERED":
            reasons.append("alarm " + ", ".join(alarms.get("triggeredAlarmNames", [])))
        breaker = deployment.get("deploymentCircuitBreaker", {})
        if breaker.get("status") == "TRIGGERED":
            reasons.append(f"circuit breaker ({breaker.get('failureCount', '?')} tasks failed)")
        reason = deployment.get("statusReason") or deployment.get("rollback", {}).get("reason")
        if reason:
            reasons.append(reason)
        self.progress.fail(
            f"{plan.name}: {deployment['status']}" + (f": {'; '.join(reasons)}" if reasons else "")
        )

    def _describe_services(self, names: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(names), 10):
            response = self.ecs.describe_services(
                cluster=self.placement.cluster, services=names[start : start + 10]
            )
            found.update({s["serviceName"]: s for s in response["services"]})
        return found
