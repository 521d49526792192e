"""Start N lenet-viz processes on loopback and Debian's nginx in front of them, for a test or a try.

    python deploy/local_cluster.py --processes 2 --port 8641 --nginx-port 8700
    # then open http://127.0.0.1:8700 ; Ctrl-C stops everything

Each app process is ``streamlit run streamlit_app.py`` on 127.0.0.1:<port + i>, all with the same
cookie secret (a session's XSRF cookie, made by one process, must be accepted by the next);
nginx runs from ``deploy/nginx.conf.template`` filled in under a private run folder, as the
current user (no root, no system files touched). The same layout on a real host: one systemd
unit per process (``deploy/lenet-viz@.service``) and nginx's system service with the template's
blocks.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_config(run_dir: Path, listen: str, app_ports: list[int]) -> str:
    """The template filled in: nginx's files under ``run_dir``, one upstream server per app port."""
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in app_ports)
    text = TEMPLATE.read_text()
    for field, value in (("@RUN_DIR@", str(run_dir)), ("@LISTEN@", listen), ("@UPSTREAM_SERVERS@", servers)):
        text = text.replace(field, value)
    return text


def _wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def cluster(processes: int, first_port: int, nginx_port: int, env: dict[str, str] | None = None,
            run_dir: Path | None = None, timeout: float = 90.0):
    """Start the app processes and nginx; yield (nginx URL, app processes, nginx process); stop all."""
    import os

    run_dir = Path(run_dir or tempfile.mkdtemp(prefix="lenet-viz-nginx-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    ports = [first_port + i for i in range(processes)]
    shared = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32), **(env or {})}
    started: list[subprocess.Popen] = []
    try:
        for port in ports:
            cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                   "--server.address", "127.0.0.1", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
            log = open(run_dir / f"app-{port}.log", "w")  # noqa: SIM115 - closed with the process
            started.append(subprocess.Popen(cmd, cwd=ROOT, env=shared, stdout=log, stderr=subprocess.STDOUT))
        for port, proc in zip(ports, started, strict=True):
            _wait_http(f"http://127.0.0.1:{port}/_stcore/health", timeout, proc)
        conf = run_dir / "nginx.conf"
        conf.write_text(nginx_config(run_dir, f"127.0.0.1:{nginx_port}", ports))
        check = subprocess.run([NGINX, "-t", "-p", str(run_dir), "-c", str(conf)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx refused the configuration:\n{check.stderr}")
        nginx = subprocess.Popen([NGINX, "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        started.append(nginx)
        url = f"http://127.0.0.1:{nginx_port}"
        _wait_http(url + "/_stcore/health", timeout, nginx)
        yield url, started[:-1], nginx
    finally:
        for proc in reversed(started):
            _stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8641, help="first app process's port (the others follow)")
    parser.add_argument("--nginx-port", type=int, default=8700)
    args = parser.parse_args()
    with cluster(args.processes, args.port, args.nginx_port) as (url, apps, _):
        print(f"{len(apps)} app processes behind nginx at {url} (Ctrl-C stops them)", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
