# Raise the sandbox's own cgroup limits (v1 and v2 names): every write must
# fail.
escaped=0
for file in \
  /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max \
  /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes \
  /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cgroup.procs \
  /sys/fs/cgroup/memory/cgroup.procs /proc/sys/kernel/hostname /proc/sys/kernel/pid_max /proc/sys/vm/overcommit_memory; do
  [ -e "$file" ] || continue
  if (echo -1 > "$file") 2>/dev/null || (echo max > "$file") 2>/dev/null; then
    echo "ESCAPED: wrote $file"
    escaped=1
  else
    echo "refused: $file"
  fi
done
if hostname evil 2>/dev/null; then echo "ESCAPED: hostname"; escaped=1; fi
[ "$escaped" = 0 ] && echo BLOCKED || echo ESCAPED
exit 0
