# One file past the size limit with default signal handling: the writer is
# killed by SIGXFSZ (25).
exec head -c 12582912 /dev/zero > /tmp/big
