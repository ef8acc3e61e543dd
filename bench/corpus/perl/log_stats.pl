use strict;
use warnings;

my @methods = qw(GET POST PUT DELETE);
my @lines;
for my $i (0 .. 4999) {
    my $status = (200, 201, 404, 500, 302)[$i % 5];
    push @lines, sprintf('10.0.%d.%d - - [02/Dec/2026:00:%02d:00 +0000] "%s /p%d HTTP/1.1" %d %d',
        $i % 4, $i % 250, $i % 60, $methods[$i % 4], $i % 7, $status, 100 + $i % 900);
}
push @lines, "garbage";
my (%status, %method, $bytes, $bad);
for (@lines) {
    if (m{^(\S+) - - \[[^\]]+\] "(\w+) (\S+) HTTP/1\.[01]" (\d{3}) (\d+)$}) {
        $status{$4}++;
        $method{$2}++;
        $bytes += $5;
    } else {
        $bad++;
    }
}
my $expect = 0;
$expect += 100 + $_ % 900 for 0 .. 4999;
die "bad" unless $bad == 1;
die "status" unless $status{500} == 1000 && $status{200} == 1000;
die "method" unless $method{GET} == 1250;
die "bytes" unless $bytes == $expect;
print "OK log_stats\n";
