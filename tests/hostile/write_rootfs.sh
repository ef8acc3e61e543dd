# Try to write everywhere outside the scratch area: the root filesystem is
# read-only and the code's folder belongs to root.
escaped=0
for dir in / /etc /usr /usr/bin /bin /sbin /lib /root /var /var/tmp /var/lib /opt /home /srv /run /sandbox /sandbox/code /proc/self; do
  if (echo pwned > "$dir/.hostile") 2>/dev/null; then
    echo "ESCAPED: wrote $dir/.hostile"
    escaped=1
  fi
done
for file in /etc/passwd /etc/hosts /etc/resolv.conf /etc/hostname /usr/bin/python3 /proc/1/exe /proc/self/exe /sandbox/code/main.sh; do
  if (echo pwned >> "$file") 2>/dev/null; then
    echo "ESCAPED: appended to $file"
    escaped=1
  fi
done
if mkdir /hostile-dir 2>/dev/null; then echo "ESCAPED: mkdir /hostile-dir"; escaped=1; fi
if touch /tmp/ok 2>/dev/null; then echo "scratch writable"; fi
[ "$escaped" = 0 ] && echo BLOCKED
exit 0
