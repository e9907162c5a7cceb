import json
from pathlib import Path

import pytest
import ticketing_infra
from ticketing_common import topology
from ticketing_devkit.packaging_check import undeclared_imports
from ticketing_infra import catalog


def test_infra_imports_only_what_it_declares() -> None:
    assert undeclared_imports("ticketing-infra", Path(ticketing_infra.__file__).parent) == set()


def test_a_new_task_definition_file_is_a_new_service(tmp_path: Path) -> None:
    """Adding a service touches its folder and one task definition: infra picks it up."""
    for spec in catalog.discover():
        (tmp_path / f"{spec.name}.json").write_text(json.dumps(spec.task_definition))
    template = json.loads((catalog.TASK_DEFINITIONS_DIR / "events.json").read_text())
    template["family"] = "ticketing-venues"
    template["containerDefinitions"][0]["name"] = "venues"
    (tmp_path / "venues.json").write_text(json.dumps(template))
    with pytest.raises(FileNotFoundError, match="no services/venues declares"):
        catalog.discover(tmp_path)

    declared = dict(catalog.TOPOLOGY)
    declared["venues"] = topology.parse(
        "venues",
        {
            "app": "ticketing_venues.main:create_app",
            "dev-port": 8099,
            "tasks": {"min": 1, "max": 3},
        },
    )
    venues = {spec.name: spec for spec in catalog.discover(tmp_path, declared)}["venues"]
    assert venues.scaling == topology.Scaling(1, 3)
    assert venues.public_paths == ()
    assert venues.package == "ticketing_venues"
    assert venues.repository == "ticketing/venues"
    assert venues.log_group == "/ecs/ticketing-venues"
    assert venues.owns_database
    assert venues.migrate_command == ["python", "-m", "ticketing_venues", "migrate"]
