# The main process exits 0 at once while a detached grandchild keeps
# running and printing. The answer must come promptly and the grandchild
# must die with the container.
import os
import sys
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for i in range(600):
            print(f"child alive {i}", flush=True)
            time.sleep(0.1)
        print("ESCAPED: the child outlived the deadline", flush=True)
        os._exit(0)
    os._exit(0)
time.sleep(0.3)
print("MAIN DONE", flush=True)
sys.exit(0)
