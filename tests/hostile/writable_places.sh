# Look for any place the program can write a file, on every mount that is
# not read-only: the documented model has one writable place, the scratch
# area /tmp. (/dev/mqueue holds POSIX message queues of the container's own
# IPC namespace, bounded by RLIMIT_MSGQUEUE, not files: it is skipped.)
escaped=0
declare -A seen
while read -r _ mount _ options _; do
  case "$mount" in /proc|/proc/*|/sys|/sys/*|/tmp|/dev/mqueue) continue ;; esac
  case ",$options," in *,ro,*) continue ;; esac
  while IFS= read -r place; do
    case "$place" in /tmp|/tmp/*|/dev/mqueue|/dev/mqueue/*) continue ;; esac
    [ -n "${seen[$place]}" ] && continue
    seen[$place]=1
    if [ -d "$place" ]; then
      probe="$place/.hostile-probe-$$"
      if (echo pwned > "$probe") 2>/dev/null; then
        echo "ESCAPED: wrote a file in $place"
        escaped=1
      fi
      rm -f "$probe" 2>/dev/null
    elif (: >> "$place") 2>/dev/null; then
      echo "ESCAPED: can write $place"
      escaped=1
    fi
  done < <(find "$mount" -xdev \( -type d -o -type f \) -writable -print 2>/dev/null)
done < /proc/self/mounts
[ "$escaped" = 0 ] && echo BLOCKED
exit 0
