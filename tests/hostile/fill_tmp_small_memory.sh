# Fill /tmp under an 8 MiB memory limit. tmpfs pages count against the
# memory limit and no kill frees them, so the scratch area must be sized
# within it: the writes end with ENOSPC, not with an OOM kill of the
# sandbox itself.
written=0
for i in $(seq 1 40); do
  if ! head -c 1048576 /dev/zero > "/tmp/fill-$i" 2>/dev/null; then
    echo "BLOCKED: ENOSPC after $written MiB"
    exit 0
  fi
  written=$((written + 1))
done
echo "ESCAPED: wrote $written MiB to /tmp"
