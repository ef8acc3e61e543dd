# Exit with the code an out-of-memory kill or a timeout would give (137):
# the status must stay runtime_error; only the engine's own evidence (its
# timer, the OOM flag) may say timeout or memory_limit.
import sys

print("pretending to be killed")
sys.exit(137)
