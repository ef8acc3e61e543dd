# Start threads until the engine refuses: the pids cgroup counts threads.
import threading
import time

started = 0
try:
    while started < 10000:
        thread = threading.Thread(target=time.sleep, args=(60,), daemon=True)
        thread.start()
        started += 1
except RuntimeError as error:
    print(f"BLOCKED after {started} threads: {error}")
else:
    print(f"ESCAPED: {started} threads started")
