"""Granda's shim for Python functions: serves the hot protocol (docs/hot-functions.md) and calls handler.py.

The function's directory is the parent of the .granda/ directory this file is in (/app in the image). Two styles
(docs/runtimes.md):

- module: handler.py defines handle(request) at its top level. It is imported once, before the socket exists (so its
  import time is the instance's init time), and handle is called for every request, in the request's own thread.
- program: handler.py defines no handle (the original Granda's scripts read sys.argv[1]). It is run for every
  request as `python handler.py <payload>` with the payload on stdin too; exit 0 answers 200 with its stdout, any
  other exit 502 with the same JSON Granda answers for a failing run-mode function.

Only the standard library is used, and nothing newer than Python 3.8, so the shim runs on any base image.
"""

import ast
import http
import inspect
import json
import os
import signal
import socketserver
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANDLER_FILE = os.path.join(APP_DIR, "handler.py")

MAX_ARGUMENT_BYTES = 128 * 1024  # Linux's MAX_ARG_STRLEN, with its terminating NUL
LOG_TAIL_BYTES = 4096            # how much of a failed program's stderr the 502 answer carries
OUTPUT_HEAD_BYTES = 4096         # ...and of its stdout
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class Headers(Mapping):
    """The request's headers: a read-only mapping whose keys compare without case.

    headers["content-type"] and headers["Content-Type"] are the same; a header sent more than once reads as its
    values joined by ", " (get_all gives them one by one). Iterating gives the names as the caller spelled them.
    """

    def __init__(self, pairs):
        self._values = {}
        self._names = {}
        for name, value in pairs:
            key = name.lower()
            self._values.setdefault(key, []).append(value)
            self._names.setdefault(key, name)

    def __getitem__(self, name):
        return ", ".join(self._values[name.lower()])

    def __iter__(self):
        return iter(self._names.values())

    def __len__(self):
        return len(self._values)

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._values

    def get_all(self, name):
        """Every value of a header, in order; [] when absent."""
        return list(self._values.get(name.lower(), []))

    def __repr__(self):
        return "Headers(%r)" % {name: self[name] for name in self}


class Request:
    """One call, as handle(request) receives it.

    method     "GET", "POST", ...
    path       the path, percent-decoded ("/orders/42"); raw_path is it as sent
    query      {name: first value}, percent-decoded; query_all is {name: [every value]}; raw_query as sent
    headers    Headers: a mapping that ignores case
    body       the payload, bytes; text is it decoded as UTF-8; json() parses it (None when the body is empty)
    """

    __slots__ = ("method", "path", "raw_path", "query", "query_all", "raw_query", "headers", "body")

    def __init__(self, method, target, headers, body):
        raw_path, _, raw_query = target.partition("?")
        self.method = method
        self.raw_path = raw_path
        self.path = unquote(raw_path)
        self.raw_query = raw_query
        self.query_all = parse_qs(raw_query, keep_blank_values=True)
        self.query = {name: values[0] for name, values in self.query_all.items()}
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return "Request(%s %s, %d bytes)" % (self.method, self.raw_path, len(self.body))


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body


def text_response(status, text, content_type="text/plain; charset=utf-8", extra=()):
    return Response(status, [("Content-Type", content_type)] + list(extra), text.encode("utf-8"))


def to_response(result):
    """What handle() returned, as a response (docs/runtimes.md); TypeError when it cannot be one."""
    if result is None:
        return Response(204, [], b"")
    status, headers, body = 200, [], result
    if isinstance(result, tuple):
        if len(result) == 2:
            status, body = result
        elif len(result) == 3:
            status, headers, body = result
        else:
            raise TypeError("a tuple answer is (status, body) or (status, headers, body), not %d items" % len(result))
        if isinstance(headers, Mapping):
            headers = list(headers.items())
        headers = [(str(name), str(value)) for name, value in (headers or [])]
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise TypeError("the status must be an int from 200 to 599, not %r" % (status,))
    content_type = None
    if body is None:
        data = b""
    elif isinstance(body, str):
        data, content_type = body.encode("utf-8"), "text/plain; charset=utf-8"
    elif isinstance(body, (bytes, bytearray, memoryview)):
        data, content_type = bytes(body), "application/octet-stream"
    elif isinstance(body, (dict, list, int, float, bool)):
        data, content_type = json.dumps(body).encode("utf-8"), "application/json"
    else:
        raise TypeError("cannot answer with a %s: return str, bytes, a dict or list (JSON), None, or a tuple"
                        % type(body).__name__)
    for name, value in headers:
        if any(c in name or c in value for c in "\r\n\0") or not name:
            raise TypeError("header %r has a line break or NUL in it" % name)
    headers = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP]
    if content_type and not any(n.lower() == "content-type" for n, _ in headers):
        headers.insert(0, ("Content-Type", content_type))
    return Response(status, headers, data)


# ---------------------------------------------------------------------------------------------------------------------
# the module style

def defines_handle(source):
    """Whether handler.py binds the name handle at its top level (in an if or try there too), read without running
    it: a program-style script must not run at import."""
    def binds(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "handle":
                return True
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "handle" for t in node.targets):
                return True
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "handle":
                return True
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                    (alias.asname or alias.name) == "handle" for alias in node.names):
                return True
            for block in ("body", "orelse", "finalbody"):
                if isinstance(node, (ast.If, ast.Try, ast.With)) and binds(getattr(node, block, [])):
                    return True
            if isinstance(node, ast.Try) and any(binds(h.body) for h in node.handlers):
                return True
        return False
    return binds(ast.parse(source, HANDLER_FILE).body)


def load_handle():
    sys.path.insert(0, APP_DIR)
    import importlib
    module = importlib.import_module("handler")
    handle = getattr(module, "handle", None)
    if not callable(handle):
        raise SystemExit("granda: handler.py: handle is not a function")
    return handle


def call_module(handle, request):
    try:
        result = handle(request)
        if inspect.isawaitable(result):
            import asyncio
            result = asyncio.run(_await(result))
        return to_response(result)
    except Exception as e:
        # The trace starts at the function's own frame: the shim's call into it says nothing useful.
        trace = "".join(traceback.format_exception(type(e), e, e.__traceback__.tb_next or e.__traceback__))
        sys.stderr.write(trace)
        sys.stderr.flush()
        return text_response(500, trace)


async def _await(awaitable):
    return await awaitable


# ---------------------------------------------------------------------------------------------------------------------
# the program style

def fits_in_one_argument(payload):
    return 0 < len(payload) < MAX_ARGUMENT_BYTES and b"\0" not in payload


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_program(request):
    """Runs handler.py once for a request, as Granda's run mode would run it."""
    args = [sys.executable, HANDLER_FILE]
    if fits_in_one_argument(request.body):
        args.append(request.body)
    env = dict(os.environ)
    env.pop("GRANDA_SOCKET", None)  # the child is a run-mode program, not a second server
    env.update(GRANDA_METHOD=request.method, GRANDA_PATH=request.raw_path, GRANDA_QUERY=request.raw_query)
    timeout_ms = _int_or_none(request.headers.get("Granda-Timeout-Ms"))
    deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000.0
    try:
        # A process group of its own, so that a deadline kills whatever the program started too.
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=APP_DIR, env=env, start_new_session=True)
    except OSError as e:
        return failure("handler.py could not be started: %s" % e, None, b"", str(e).encode())
    killed_at_deadline = False
    stdin = request.body  # given to the first communicate() only: a retry carries on where it left off
    while True:
        wait = 0.5 if deadline is None else max(0.01, min(0.5, deadline - time.monotonic()))
        try:
            out, err = proc.communicate(stdin, timeout=wait)
            break
        except subprocess.TimeoutExpired:
            stdin = None
            if proc.poll() is not None:
                kill_group(proc.pid)  # it exited; something it started keeps its output open
            elif deadline is not None and time.monotonic() >= deadline:
                kill_group(proc.pid)
                killed_at_deadline = True
                deadline = None  # from now on only its output is awaited
    kill_group(proc.pid)
    if err:
        sys.stderr.buffer.write(err)
        sys.stderr.flush()
    code = proc.returncode
    if killed_at_deadline:
        return failure("handler.py was still running at its deadline (%d ms) and was killed" % timeout_ms,
                       None, out, err)
    if code == 0:
        return Response(200, [("Content-Type", "text/plain; charset=utf-8")], out)
    if code < 0:
        return failure("handler.py was killed by signal %d" % -code, 128 - code, out, err)
    return failure("handler.py exited with code %d" % code, code, out, err)


def failure(message, exit_code, out, err):
    body = {"error": "function_error", "message": message, "exitCode": exit_code,
            "logTail": err[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace"),
            "output": out[:OUTPUT_HEAD_BYTES].decode("utf-8", errors="replace")}
    return text_response(502, json.dumps(body), "application/json")


def _int_or_none(value):
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------------------
# HTTP

class Connection(BaseHTTPRequestHandler):
    """One connection from Granda: HTTP/1.1 requests, one after the other, kept alive."""

    protocol_version = "HTTP/1.1"
    serve = None  # set at start: Request -> Response

    def __getattr__(self, name):
        if name.startswith("do_"):  # BaseHTTPRequestHandler dispatches on do_<METHOD>: every method is served
            return self._serve
        raise AttributeError(name)

    def _serve(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self._send(text_response(501, "request bodies must have a Content-Length\n"))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(text_response(400, "malformed Content-Length\n"))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, Headers(self.headers.items()), body)
        try:
            response = Connection.serve(request)
        except Exception:  # the shim's own failure: still an answer, and the connection stays usable
            trace = traceback.format_exc()
            sys.stderr.write(trace)
            response = text_response(500, trace)
        self._send(response)

    def _send(self, response):
        status = response.status
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        lines += ["%s: %s" % (name, value) for name, value in response.headers]
        no_body = status in (204, 304) or self.command == "HEAD"
        if status not in (204, 304):
            lines.append("Content-Length: %d" % len(response.body))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        self.wfile.write(head if no_body else head + response.body)  # one write: one segment on the socket
        self.wfile.flush()

    def log_message(self, format, *args):  # nothing per request; errors go to stderr from where they happen
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True  # a connection never keeps the process alive
    block_on_close = False

    def get_request(self):  # BaseHTTPRequestHandler wants a (host, port) client address
        request, _ = super().get_request()
        return request, ("granda", 0)


def listen(path):
    """Listens on path: bound under a temporary name and renamed into place once listening, as Granda takes the
    socket's existence as readiness; connectable by anyone (umask 0), as Granda may run as another user."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = path + ".new"
    for stale in (path, temporary):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    server = Server(temporary, Connection, bind_and_activate=False)
    old_mask = os.umask(0)
    try:
        server.server_bind()
    finally:
        os.umask(old_mask)
    server.server_activate()
    os.rename(temporary, path)
    return server


def main():
    path = os.environ.get("GRANDA_SOCKET")
    if not path:
        sys.exit("granda: GRANDA_SOCKET is not set: this image is a hot function and serves on that unix socket "
                 "(docs/hot-functions.md)")
    with open(HANDLER_FILE, "rb") as f:
        source = f.read()
    if defines_handle(source):
        handle = load_handle()
        Connection.serve = staticmethod(lambda request: call_module(handle, request))
        style = "handle(request)"
    else:
        Connection.serve = staticmethod(run_program)
        style = "program"
    server = listen(path)

    def stop(signum, frame):  # as PID 1 SIGTERM does nothing unless handled
        try:
            os.unlink(path)
        except OSError:
            pass
        os._exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write("granda: python %s serving handler.py (%s) on %s\n"
                     % (sys.version.split()[0], style, path))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
