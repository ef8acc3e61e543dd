# Ignore every catchable signal and spin: SIGKILL from the engine still
# ends it.
trap '' HUP INT QUIT TERM USR1 USR2 ALRM PIPE XCPU XFSZ
echo "ignoring signals"
while :; do :; done
