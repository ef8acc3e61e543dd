# Close stdout early, keep running a little, then exit: a definite answer.
import os
import sys
import time

print("before close", flush=True)
os.close(1)
time.sleep(0.5)
try:
    print("after close", flush=True)
except OSError as error:
    sys.stderr.write(f"stdout is closed: {error.strerror}\n")
sys.stderr.write("still running\n")
sys.stderr.flush()
time.sleep(0.3)
os._exit(0)
