"""Desk fixtures: a recording ILL bridge stands in for `ill` (the real bridge is tested with
ill), and a small world of libraries, desks, patron groups and a desk user."""

import pytest

from .helpers import (  # noqa: F401 - re-exported for the test modules
    RecordingBridge,
    block,
    desk_world,
    ill_item,
    make_patron,
    own_item,
)


@pytest.fixture
def world(db, bridge):
    return desk_world(bridge)
