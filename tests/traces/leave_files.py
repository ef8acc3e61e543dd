"""Leave program (Python): tries to leave files and a process for the next
run in the same sandbox, in every writable place (/tmp, the code folder
/sandbox/code, /sandbox itself, /dev/mqueue):
- the sealed code folder and /sandbox opened again (chmod, as their owner);
- folders and files with every permission removed (mode 000), nested;
- a deep tree (3000 levels, deeper than PATH_MAX as a path) whose deepest
  folders have mode 000;
- FIFOs, a filesystem unix socket, hard links (in /tmp and in /sandbox),
  symlinks pointing out of the sandbox (/, /etc/passwd) and a symlink loop;
- a POSIX message queue made by creating a file in /dev/mqueue;
- an extended attribute (user.trace) and a default ACL (new entries only
  for their owner) on /sandbox, the one folder of its own that stays;
- /tmp filled to the last byte (files within the file size limit);
- a double-forked daemon ignoring SIGTERM that holds a TCP listener on
  127.0.0.1:4243 and the abstract unix socket "@braindrill-trace-py", and
  after 300 ms writes /tmp/py-daemon-was-here and prints "PY DAEMON";
- umask 0 and lowered soft limits for itself and its children.
Then it exits 0 at once."""
import errno
import os
import resource
import signal
import socket
import struct
import time

DEPTH = 3000


def locked_tree(root):
    os.makedirs(f"{root}/locked/inner", exist_ok=True)
    with open(f"{root}/locked/inner/file", "w") as file:
        file.write("secret\n")
    os.chmod(f"{root}/locked/inner/file", 0)
    os.chmod(f"{root}/locked/inner", 0)
    os.chmod(f"{root}/locked", 0)
    with open(f"{root}/unreadable", "w") as file:
        file.write("x")
    os.chmod(f"{root}/unreadable", 0)


def deep_tree(root):
    top = os.open(".", os.O_RDONLY)
    os.mkdir(f"{root}/deep")
    os.chdir(f"{root}/deep")
    for _ in range(DEPTH):
        os.mkdir("d")
        os.chdir("d")
    with open("bottom", "w") as file:
        file.write("bottom\n")
    for _ in range(3):
        os.chdir("..")
        os.chmod("d", 0)
    os.fchdir(top)
    os.close(top)


def special_files(root):
    os.mkfifo(f"{root}/fifo")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(f"{root}/py.sock")
    with open(f"{root}/original", "w") as file:
        file.write("linked\n")
    os.link(f"{root}/original", f"{root}/hardlink")
    os.symlink("/", f"{root}/to-root")
    os.symlink("/etc/passwd", f"{root}/to-passwd")
    os.symlink(f"{root}/loop-b", f"{root}/loop-a")
    os.symlink(f"{root}/loop-a", f"{root}/loop-b")


def mark_sandbox():
    os.setxattr("/sandbox", "user.trace", b"left by leave_files.py")
    # A POSIX ACL, version 2: (tag, permissions, id) for the owner (rwx),
    # the group (none) and others (none).
    entries = [(0x01, 7), (0x04, 0), (0x20, 0)]
    acl = struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", tag, perm, 0xFFFFFFFF) for tag, perm in entries)
    os.setxattr("/sandbox", "system.posix_acl_default", acl)


def fill(root):
    index = 0
    while True:
        try:
            with open(f"{root}/fill-{index}", "wb") as file:
                for _ in range(1024):
                    file.write(b"\0" * 4096)
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EFBIG):
                return
            raise
        index += 1


def daemon():
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 4243))
    listener.listen()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0braindrill-trace-py")
    abstract.listen()
    time.sleep(0.3)
    while True:
        try:
            with open("/tmp/py-daemon-was-here", "a") as file:
                file.write("x\n")
        except OSError:
            pass
        print("PY DAEMON", flush=True)
        time.sleep(0.1)


def main():
    os.chmod("/sandbox", 0o755)
    os.chmod("/sandbox/code", 0o755)
    os.mkdir("/sandbox/other")
    for root in ("/tmp", "/sandbox/code", "/sandbox/other"):
        locked_tree(root)
        special_files(root)
    deep_tree("/tmp")
    deep_tree("/sandbox/code")
    os.link("/sandbox/code/leave_files.py", "/sandbox/hardlink-to-code")
    try:
        with open("/dev/mqueue/braindrill-trace-py", "w"):
            pass
    except OSError as error:
        # The engine sets RLIMIT_MSGQUEUE to 0: the queue may be refused.
        print("no queue:", error)
    mark_sandbox()
    daemon()
    time.sleep(0.05)
    fill("/tmp")
    os.umask(0)
    for limit in (resource.RLIMIT_NOFILE, resource.RLIMIT_STACK, resource.RLIMIT_NPROC):
        soft, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, ((1 << 20) if soft == resource.RLIM_INFINITY else soft // 2, hard))
    os.chmod("/sandbox/code", 0)
    os.chmod("/sandbox", 0)
    print("left: files in every writable place, a deep tree, a full /tmp, a daemon")


main()
