"""Lost responses: a request that AWS executed but whose answer never reached
the client (a reset connection, a proxy timeout). SDKs retry such requests,
so a Create that already took effect is sent again.

Shared by moto_fleet.py (EKS, IAM) and strict_ec2.py (EC2). The control
endpoint, POST /moto-fleet/lose-responses {"service", "action", "count"},
lives in moto_fleet.py and calls arm().

    arm("eks", "CreateCluster", 1)      # the next CreateCluster is lost
    if take(service, action):           # after moto/extension acted
        return drop_connection(environ, start_response)
"""
import socket
import struct
import threading

_armed = {}  # (service, action) -> remaining count
_lock = threading.Lock()


def arm(service, action, count=1):
    """The next `count` requests for service/action act, then get no answer."""
    with _lock:
        key = (service.lower(), action)
        _armed[key] = _armed.get(key, 0) + int(count)
        if _armed[key] <= 0:
            _armed.pop(key)


def take(service, action):
    """True (and one fewer armed) if this request's answer is to be lost."""
    with _lock:
        key = (service.lower(), action)
        left = _armed.get(key, 0)
        if left <= 0:
            return False
        if left == 1:
            _armed.pop(key)
        else:
            _armed[key] = left - 1
        return True


def armed():
    with _lock:
        return {f"{s}:{a}": n for (s, a), n in _armed.items()}


def reset():
    with _lock:
        _armed.clear()


def drop_connection(environ, start_response=None):
    """Close the client's connection without an answer (a TCP reset).

    werkzeug puts the connection's socket in environ["werkzeug.socket"].
    SO_LINGER 0 then shutdown makes the kernel send RST, so the client sees
    "connection reset" (botocore: ConnectionClosedError, which it retries).
    Returns the WSGI body to hand back: werkzeug's attempt to write the
    status line then fails with a ConnectionError, which it treats as a
    dropped connection (no traceback, no answer).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    if start_response is not None:
        start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]
