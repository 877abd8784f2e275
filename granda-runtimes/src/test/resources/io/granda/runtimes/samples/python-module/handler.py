# The module-style sample the shim tests run: each path exercises one part of the convention (docs/runtimes.md).
import builtins
import json

builtins.granda_sample_imports = getattr(builtins, "granda_sample_imports", 0) + 1  # the shim imports it once


def compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


async def later():
    return "later"


def handle(request):
    path = request.path
    if path.startswith("/echo"):
        return (200, {"Content-Type": "application/octet-stream", "X-Method": request.method, "X-Path": path,
                      "X-Raw-Path": request.raw_path, "X-Raw-Query": request.raw_query,
                      "X-Query": compact(request.query), "X-Query-All": compact(request.query_all),
                      "X-Test": request.headers["x-TEST"] if "X-Test" in request.headers else "none",
                      "X-Timeout": request.headers.get("granda-timeout-ms", "none")},
                request.body)
    if path == "/text":
        return "héllo " + request.text
    if path == "/bytes":
        return b"\x00\x01\x02"
    if path == "/json":
        return {"got": request.json()}
    if path == "/list":
        return [1, 2]
    if path == "/none":
        return None
    if path == "/status":
        return (418, "teapot")
    if path == "/headers":
        return (201, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Type", "text/csv")], "x,y")
    if path == "/fail":
        raise ValueError("boom from the handler")
    if path == "/bad":
        return object()
    if path == "/async":
        return later()
    if path == "/imports":
        return str(builtins.granda_sample_imports)
    return "hello"
