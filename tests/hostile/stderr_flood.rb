# Write to stderr as fast as possible, forever.
chunk = "E" * 65536
loop { $stderr.write(chunk) }
