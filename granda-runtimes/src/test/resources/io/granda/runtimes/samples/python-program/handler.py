# The program-style sample the shim tests run (no handle: the original Granda's scripts): behaves by its argument.
import os
import subprocess
import sys
import time

arg = sys.argv[1] if len(sys.argv) > 1 else None
data = sys.stdin.buffer.read()
if arg is None:
    sys.stdout.buffer.write(data)  # no argument: the payload came on stdin only
elif arg == "fail":
    print("partial")
    sys.stderr.write("something broke\n")
    sys.exit(3)
elif arg == "sleep":
    time.sleep(30)
elif arg == "leave":
    subprocess.Popen(["sleep", "30"])  # keeps stdout open after this process exits
    print("left")
elif arg == "env":
    print(os.environ.get("GRANDA_METHOD"), os.environ.get("GRANDA_PATH"), os.environ.get("GRANDA_QUERY"),
          os.environ.get("GRANDA_SOCKET", "nosocket"))
else:
    print("arg=%s stdin=%s" % (arg[:20], data[:20].decode()))
