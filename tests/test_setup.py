"""Set-up on a fresh machine: `make run` / `make test` check the Debian packages they need
(scripts/debian_packages.sh: installed as root, otherwise the apt-get line to run), and
`make run PORT=… HOST=…` prints the demo addresses it really serves on.

The script runs against stand-ins for dpkg-query, id and apt-get put first on PATH, so the test
neither needs nor changes the machine's packages."""
import os
import stat
import subprocess

import pytest

from app.config import ROOT

SCRIPT = ROOT / "scripts" / "debian_packages.sh"


def _stub(directory, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_debian(tmp_path):
    """run(target, installed=[...], uid=N) → (exit code, output, apt-get calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-calls"

    def run(target: str, installed: list[str], uid: int):
        installed_list = " ".join(installed)
        _stub(bin_dir, "dpkg-query", f'for p in {installed_list}; do [ "$p" = "$3" ] && printf installed && exit 0; done\n'
                                     "exit 1\n")
        _stub(bin_dir, "id", f'[ "$1" = "-u" ] && echo {uid}\n')
        _stub(bin_dir, "apt-get", f'echo "$*" >> {calls}\n')
        calls.write_text("")
        done = subprocess.run(["bash", str(SCRIPT), target], capture_output=True, text=True,
                              env=dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}"))
        return done.returncode, done.stdout + done.stderr, calls.read_text().splitlines()

    return run


def test_nothing_to_do_when_everything_is_installed(fake_debian):
    code, output, apt = fake_debian("test", ["libharfbuzz-subset0", "fonts-wqy-microhei", "chromium",
                                             "poppler-utils"], uid=1000)
    assert (code, output, apt) == (0, "", [])


def test_not_root_prints_the_install_line_and_stops(fake_debian):
    code, output, apt = fake_debian("test", ["fonts-wqy-microhei", "poppler-utils"], uid=1000)
    assert code == 1 and apt == []
    assert "  apt-get install -y libharfbuzz-subset0 chromium\n" in output


def test_root_installs_what_is_missing(fake_debian):
    code, output, apt = fake_debian("run", ["libharfbuzz-subset0"], uid=0)
    assert code == 0, output
    assert apt == ["update -qq", "install -y -qq fonts-wqy-microhei"]


def test_run_needs_no_test_packages(fake_debian):
    assert fake_debian("run", ["libharfbuzz-subset0", "fonts-wqy-microhei"], uid=1000)[0] == 0
    assert fake_debian("oops", [], uid=0)[0] == 2


@pytest.mark.parametrize("host, port, base", [("127.0.0.1", 5101, "http://127.0.0.1:5101"),
                                              ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
                                              ("192.168.1.5", 5000, "http://192.168.1.5:5000"),
                                              ("::1", 5000, "http://[::1]:5000")])
def test_demo_logins_print_the_address_served(app, host, port, base):
    result = app.test_cli_runner().invoke(args=["demo-logins", "--host", host, "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"retailer000001   retailer  {base}/retailer/" in result.output
    assert f"admin            admin     {base}/admin/" in result.output
