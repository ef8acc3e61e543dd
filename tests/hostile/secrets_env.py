# Print everything the program can learn of its environment and of PID 1:
# nothing of the engine's (cluster cookie, Docker host, node settings)
# may be there, and no process but the sandbox's own is visible. A warm
# sandbox's runner, its PID 1, is non-dumpable: its environment is unreadable.
import os

print("ENV", sorted(os.environ.items()))
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:
            print(f"PID {pid} ENV", file.read().replace(b"\0", b" ").decode(errors="replace"))
    except OSError as error:
        print(f"PID {pid} ENV unreadable: {error.strerror}")
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            cmdline = file.read().replace(b"\0", b" ").decode(errors="replace")
        print(f"PID {pid} CMD", cmdline)
        # The sandbox's own init (a warm sandbox's runner, with the folders
        # it warms as arguments) is no host process.
        own_init = pid == "1" and cmdline.split(" ")[0] == "/usr/local/bin/braindrill-runner"
        if not own_init and any(word in cmdline for word in ("braindrill", "dockerd", "containerd", "cargo", "systemd")):
            print("ESCAPED: a host process is visible:", cmdline)
    except OSError:
        pass
