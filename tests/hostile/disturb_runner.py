# Try to take over the sandbox's PID 1. In a warm sandbox that is the
# runner, which frames the program's output and reports its end: a program
# that could write to the runner's stdout, read or poke its memory, trace it
# or kill it could forge its own result. Each attempt must fail. (In a fresh
# sandbox PID 1 is docker-init, whose stdout is the program's own stream:
# nothing to forge there, so the attempts are only made on the runner.)
import ctypes
import os
import signal

with open("/proc/1/cmdline", "rb") as file:
    init = file.read().split(b"\0")[0].decode(errors="replace")
if not init.endswith("braindrill-runner"):
    print("BLOCKED (PID 1 is", init + ", not the runner)")
    raise SystemExit(0)

escaped = []
for path, mode in (("/proc/1/fd/1", "wb"), ("/proc/1/fd/0", "rb"), ("/proc/1/mem", "rb"), ("/proc/1/environ", "rb")):
    try:
        with open(path, mode) as file:
            escaped.append(f"opened {path}")
    except OSError as error:
        print(f"{path}: {error.strerror}")

libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
if libc.ptrace(PTRACE_ATTACH, 1, None, None) == 0:
    escaped.append("ptrace-attached to PID 1")
else:
    print("ptrace:", os.strerror(ctypes.get_errno()))

for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):
    try:
        os.kill(1, sig)
    except OSError as error:
        print(f"kill(1, {sig.name}): {error.strerror}")
try:
    os.kill(-1, signal.SIGKILL)  # everyone but PID 1 and this process
except OSError as error:
    print("kill(-1):", error.strerror)

# Still here, and the runner must still be too: this line must reach the
# client through it, with an ok status.
for line in escaped:
    print("ESCAPED:", line)
if not escaped:
    print("BLOCKED")
