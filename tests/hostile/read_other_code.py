# Look for other submissions' code: other volumes under /sandbox, Docker's
# volume folders, other containers' roots through /proc.
import os

escaped = []
entries = sorted(os.listdir("/sandbox"))
if entries != ["code"]:
    escaped.append(f"/sandbox holds {entries}")
mine = sorted(os.listdir("/sandbox/code"))
if mine != ["main.py"]:
    escaped.append(f"/sandbox/code holds {mine}")
for path in ["/var/lib/docker", "/var/lib/docker/volumes", "/var/lib/containerd", "/run/containerd", "/host", "/mnt"]:
    try:
        listed = os.listdir(path)
        if listed:
            escaped.append(f"{path} lists {listed[:5]}")
    except OSError:
        pass
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        root = os.readlink(f"/proc/{pid}/root")
        if root != "/":
            escaped.append(f"/proc/{pid}/root -> {root}")
        inside = sorted(os.listdir(f"/proc/{pid}/root/sandbox"))
        if inside != ["code"]:
            escaped.append(f"/proc/{pid}/root/sandbox holds {inside}")
    except OSError:
        pass
# Any other entry point anywhere on the filesystem.
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev") or top.startswith(("/proc/", "/sys/", "/usr/", "/sandbox/code")):
        dirs[:] = []
        continue
    for name in files:
        if name in ("main.py", "main.rb", "main.c", "main.sh", "main.js", "main.pl", "Main.java"):
            escaped.append(f"found {os.path.join(top, name)}")
if escaped:
    for line in escaped:
        print("ESCAPED:", line)
else:
    print("BLOCKED")
