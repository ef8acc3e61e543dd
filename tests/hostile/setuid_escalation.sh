# Try to become root: setuid binaries (no-new-privileges makes their bit
# inert), mount, a user namespace, newgrp, setuid(0).
escaped=0
echo "setuid binaries: $(find /bin /sbin /usr/bin /usr/sbin -xdev -perm -4000 -type f 2>/dev/null | tr '\n' ' ')"
out=$(timeout 3 su root -c 'id -u' </dev/null 2>&1)
echo "su: $out"
case "$out" in *0) escaped=1 ;; esac
if timeout 2 mount -t tmpfs none /tmp 2>/dev/null; then echo "ESCAPED: mount"; escaped=1; fi
out=$(timeout 2 unshare -r id -u 2>&1)
echo "unshare -r: $out"
[ "$out" = 0 ] && escaped=1
out=$(timeout 2 unshare -Urm sh -c 'id -u' 2>&1)
echo "unshare -Urm: $out"
[ "$out" = 0 ] && escaped=1
out=$(timeout 3 newgrp root </dev/null 2>&1)
echo "newgrp: $out"
out=$(timeout 2 perl -e '$< = $> = 0; print $> == 0 ? "ESCAPED setuid\n" : "setuid refused: $!\n"' 2>&1)
echo "setuid(0): $out"
case "$out" in *ESCAPED*) escaped=1 ;; esac
echo "uid=$(id -u) euid=$(id -u) $(grep CapEff /proc/self/status)"
grep -q 'CapEff:	0000000000000000' /proc/self/status || { echo "ESCAPED: capabilities"; escaped=1; }
grep -q 'NoNewPrivs:	1' /proc/self/status || { echo "ESCAPED: no_new_privs unset"; escaped=1; }
[ "$(id -u)" = 65534 ] || escaped=1
[ "$escaped" = 0 ] && echo BLOCKED || echo ESCAPED
exit 0
