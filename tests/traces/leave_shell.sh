#!/bin/bash
# Leave program (bash): tries to leave a process and files for the next run
# in the same sandbox:
# - a daemon (setsid in a subshell, so it outlives this script) ignoring
#   SIGTERM and SIGHUP that writes /tmp/sh-daemon-was-here every 100 ms and
#   prints "SH DAEMON";
# - a background job ignoring SIGTERM, never waited for;
# - a 2000-level deep tree (cd and mkdir -p), a folder and a file of mode 000,
#   a FIFO, a hard link and a symlink to / in /tmp and the code folder;
# - a POSIX message queue made by redirecting into /dev/mqueue;
# - /tmp filled to the last byte;
# - umask 0 and lowered soft limits (open files, processes).
# Then it exits 0 at once.
trap '' TERM HUP
( setsid bash -c 'trap "" TERM HUP INT
  while :; do echo x >> /tmp/sh-daemon-was-here; echo "SH DAEMON"; sleep 0.1; done' & )
( trap '' TERM; exec sleep 1000 ) &
chmod 755 /sandbox /sandbox/code
for root in /tmp /sandbox/code; do
  mkdir -p "$root/sh-locked/inner" && echo secret > "$root/sh-locked/inner/file"
  chmod 000 "$root/sh-locked/inner/file" "$root/sh-locked/inner" "$root/sh-locked"
  mkfifo "$root/sh-fifo"
  echo linked > "$root/sh-original" && ln "$root/sh-original" "$root/sh-hardlink"
  ln -s / "$root/sh-to-root"
  # 4 x 500 levels: each `mkdir -p` path stays under PATH_MAX, the whole not.
  level=$(printf 'd/%.0s' $(seq 500))
  ( cd "$root" && mkdir sh-deep && cd sh-deep && for _ in 1 2 3 4; do mkdir -p "$level" && cd "$level"; done && echo bottom > bottom )
done
: > /dev/mqueue/braindrill-trace-sh
for i in $(seq 0 20); do head -c 8M /dev/zero > "/tmp/sh-fill-$i" 2>/dev/null || break; done
umask 0
ulimit -S -n 16
ulimit -S -u 100
echo "left: a daemon, a job, files, a queue, a full /tmp"
