# Signal PID 1 (docker-init) with signals it cannot forward: the kernel
# drops them inside a PID namespace, or they are refused.
import os
import signal

with open("/proc/1/cmdline", "rb") as file:
    print("PID 1:", file.read().replace(b"\0", b" ").decode())
for sig in (signal.SIGKILL, signal.SIGSTOP):
    try:
        os.kill(1, sig)
        print(f"kill(1, {sig.name}): sent")
    except OSError as error:
        print(f"kill(1, {sig.name}): {error.strerror}")
# In case a stop was delivered after all.
os.kill(1, signal.SIGCONT)
print("STILL ALIVE")
