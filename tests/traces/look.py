"""Look program (Python): run as the NEXT request in a sandbox, it searches
for every trace a leave program may have left and prints `CLEAN`, or one
`TRACE: <what>` line per trace found:
- processes: any entry of /proc but the runner (PID 1) and itself;
- files: anything in /tmp, /dev/mqueue (POSIX queues), /dev/shm, /var/tmp,
  /run/lock (where writable), anything in /sandbox but the code folder,
  and anything in the code folder but this program's own files (given as
  arguments after `--files`); extended attributes and ACLs of /sandbox, the
  code folder and its files;
- System V IPC: any row of /proc/sysvipc/{shm,sem,msg};
- sockets: a connect to the leave programs' loopback ports (4242, 4243) and
  abstract names (@braindrill-trace-c, -py), any unix socket or TCP
  listener in /proc/net;
- its own umask, rlimits, nice value, scheduling policy and CPU affinity,
  compared with a fresh sandbox's: `look.py --fingerprint` prints them as
  JSON (run it first in a fresh sandbox) and `look.py --expect JSON`
  compares.
It looks twice, 500 ms apart, to catch a daemon that writes later."""
import json
import os
import resource
import socket
import sys
import time

PORTS = (4242, 4243)
ABSTRACT = ("braindrill-trace-c", "braindrill-trace-py")
WRITABLE = ("/tmp", "/dev/mqueue", "/dev/shm", "/var/tmp", "/run/lock")


def fingerprint():
    umask = os.umask(0o022)
    os.umask(umask)
    return {
        "umask": umask,
        "rlimits": {name: resource.getrlimit(getattr(resource, name))
                    for name in sorted(dir(resource)) if name.startswith("RLIMIT_")},
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "scheduler": os.sched_getscheduler(0),
        "affinity": sorted(os.sched_getaffinity(0)),
    }


def processes():
    me = os.getpid()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open(f"/proc/{name}/cmdline", "rb") as file:
                    command = file.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                command = "?"
            yield f"process {name}: {command.strip()}"


def files(own):
    for place in WRITABLE:
        if os.path.isdir(place) and os.access(place, os.W_OK):
            for name in os.listdir(place):
                yield f"file {place}/{name}"
    try:
        for name in os.listdir("/sandbox"):
            if name != "code":
                yield f"file /sandbox/{name}"
        for name in os.listdir("/sandbox/code"):
            if name not in own:
                yield f"file /sandbox/code/{name}"
    except OSError as error:
        yield f"cannot list the code folder: {error}"
    for path in ["/sandbox", "/sandbox/code"] + [f"/sandbox/code/{name}" for name in own]:
        try:
            for attr in os.listxattr(path, follow_symlinks=False):
                yield f"extended attribute {attr} on {path}"
        except OSError:
            pass
    if os.path.isdir("/dev/pts"):
        for name in os.listdir("/dev/pts"):
            if name != "ptmx":
                yield f"terminal /dev/pts/{name}"


def ipc():
    for table in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{table}") as file:
            for row in file.read().splitlines()[1:]:
                yield f"System V {table}: {' '.join(row.split()[:3])}"


def sockets():
    for port in PORTS:
        with socket.socket() as client:
            client.settimeout(1)
            if client.connect_ex(("127.0.0.1", port)) == 0:
                yield f"listener on 127.0.0.1:{port}"
    for name in ABSTRACT:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            try:
                client.connect("\0" + name)
                yield f"abstract socket @{name}"
            except OSError:
                pass
    with open("/proc/net/unix") as file:
        for row in file.read().splitlines()[1:]:
            yield f"unix socket {row.split()[-1] if len(row.split()) > 7 else row}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                for row in file.read().splitlines()[1:]:
                    if row.split()[3] == "0A":
                        yield f"TCP listener {row.split()[1]}"
        except OSError:
            pass


def state(expected):
    now = fingerprint()
    for key, value in now.items():
        if json.loads(json.dumps(value)) != expected.get(key):
            yield f"{key} is {value}, a fresh sandbox's is {expected.get(key)}"


def look(own, expected):
    traces = []
    for source in (processes(), files(own), ipc(), sockets()):
        traces.extend(source)
    if expected is not None:
        traces.extend(state(expected))
    return traces


def main():
    args = sys.argv[1:]
    if args[:1] == ["--fingerprint"]:
        print(json.dumps(fingerprint()))
        return
    expected = json.loads(args[args.index("--expect") + 1]) if "--expect" in args else None
    own = set(args[args.index("--files") + 1:]) if "--files" in args else {"look.py"}
    traces = look(own, expected)
    time.sleep(0.5)
    traces += [trace for trace in look(own, expected) if trace not in traces]
    for trace in traces:
        print(f"TRACE: {trace}")
    if not traces:
        print("CLEAN")


main()
