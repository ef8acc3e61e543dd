# kill -9 -1: every process this user may signal, PID 1 included. The
# caller survives (kill(-1) spares it), docker-init is protected, and the
# run still ends with a definite answer.
sleep 30 &
kill -9 -1 2>&1
echo "kill -1 returned $?"
wait
echo "STILL ALIVE"
