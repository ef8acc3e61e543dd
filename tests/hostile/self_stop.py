# Stop itself with SIGSTOP: nothing wakes it; the timer must end it.
import os
import signal

print("stopping", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
print("ESCAPED: resumed")
