"""Starting the project's loopback servers (moto_fleet.py, fault_proxy.py) for
the self-checks and demos: a free port, a readiness wait long enough for a
fresh virtualenv's first imports on a busy machine, and, when a server dies or
never answers, its own stderr in the error instead of a bare "did not start"."""
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A fresh venv compiles moto's and botocore's modules on first import, which
# takes well over 30 s on two busy cores.
READY_SECONDS = 180


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailed(RuntimeError):
    pass


def start(script, args, env, ready_path):
    """Runs tools/SCRIPT with ARGS and returns (process, stderr log path) once
    GET READY_PATH (a full URL) answers. Raises ServerFailed with the server's
    stderr when it exits or does not answer within READY_SECONDS."""
    log = tempfile.NamedTemporaryFile(prefix=f"{Path(script).stem}-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, str(HERE / script)] + [str(a) for a in args],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"{script} exited with {proc.returncode} before answering:\n{_tail(log.name)}")
        try:
            urllib.request.urlopen(ready_path, timeout=2)
            return proc, log.name
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise ServerFailed(f"{script} did not answer {ready_path} within {READY_SECONDS} s:\n{_tail(log.name)}")


def start_moto_fleet(env, port=None, extra_args=()):
    """moto plus the project's extension on 127.0.0.1; returns (process, URL).
    A free port can be taken by another process before the server binds it
    (tests running beside this one): then another port is tried. EXTRA_ARGS
    may be a function of the chosen port (a TLS port beside it, say)."""
    for attempt in range(3):
        chosen = port or free_port()
        url = f"http://127.0.0.1:{chosen}"
        args = extra_args(chosen) if callable(extra_args) else list(extra_args)
        try:
            proc, _ = start("moto_fleet.py", ["-H", "127.0.0.1", "-p", chosen, *args], env, url + "/moto-api/")
            return proc, url
        except ServerFailed as failed:
            if port or attempt == 2 or "Address already in use" not in str(failed):
                sys.exit(str(failed))
    raise AssertionError("unreachable")


def _tail(path, lines=40):
    text = Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(no output on stderr)"
