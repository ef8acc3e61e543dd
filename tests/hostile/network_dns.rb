# A DNS lookup and a UDP/TCP attempt from Ruby: all must fail at once.
require "socket"
require "resolv"
require "timeout"

escaped = false
started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
begin
  Timeout.timeout(2) do
    addresses = Addrinfo.getaddrinfo("example.com", 80, nil, :STREAM)
    puts "ESCAPED: resolved example.com to #{addresses.map(&:ip_address).inspect}"
    escaped = true
  end
rescue SocketError, Timeout::Error, SystemCallError => error
  puts "lookup failed in #{(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).round(3)}s: #{error.class}"
end
begin
  Timeout.timeout(2) do
    Socket.tcp("1.1.1.1", 53, connect_timeout: 1) { |_| puts "ESCAPED: connected to 1.1.1.1:53" }
    escaped = true
  end
rescue SystemCallError, SocketError, Timeout::Error, IOError => error
  puts "tcp failed: #{error.class}: #{error.message}"
  escaped = true if error.is_a?(Timeout::Error) || error.is_a?(Errno::ETIMEDOUT)
end
puts(escaped ? "ESCAPED" : "BLOCKED")
