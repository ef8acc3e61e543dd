# Leak 2 MiB every 50 ms: slowly, but past the limit before the deadline.
leak = []
loop do
  leak << ("L" * (2 * 1024 * 1024))
  sleep 0.05
end
