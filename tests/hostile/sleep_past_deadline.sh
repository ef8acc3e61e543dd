# Idle, not busy: the timer must end it anyway.
echo "going to sleep"
sleep 60
echo "ESCAPED: woke up after the deadline"
