"""deploy/ is what a library's IT installs: its environment template must name every
setting config/settings.py reads, and the units must start what the README says."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_environment_template_lists_every_setting_the_settings_read():
    settings = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z0-9_]+)"', settings))
    template = (ROOT / "deploy" / "kauko.env").read_text()
    listed = set(re.findall(r"^#?([A-Z0-9_]+)=", template, re.M))
    assert len(read) > 20
    assert read - listed == set(), "add these to deploy/kauko.env"


def test_the_units_start_the_production_server_a_worker_and_one_beat():
    units = ROOT / "deploy" / "systemd"
    web = (units / "kauko-web.service").read_text()
    assert "gunicorn -c deploy/gunicorn.conf.py" in web
    assert "celery -A config worker" in (units / "kauko-worker.service").read_text()
    assert "celery -A config beat" in (units / "kauko-beat.service").read_text()
    for unit in units.glob("*.service"):
        assert "EnvironmentFile=/etc/kauko/kauko.env" in unit.read_text()
