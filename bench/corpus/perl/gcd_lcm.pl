use strict;
use warnings;

sub gcd { my ($a, $b) = @_; ($a, $b) = ($b, $a % $b) while $b; return $a }
sub lcm { my ($a, $b) = @_; return $a / gcd($a, $b) * $b }

my $l = 1;
$l = lcm($l, $_) for 1 .. 20;
die "lcm" unless $l == 232792560;
my $seed = 7;
for (1 .. 20000) {
    $seed = ($seed * 1103515245 + 12345) % 2147483648;
    my $a = $seed % 100000 + 1;
    $seed = ($seed * 1103515245 + 12345) % 2147483648;
    my $b = $seed % 100000 + 1;
    my $g = gcd($a, $b);
    die "divides" if $a % $g || $b % $g;
    die "coprime" unless gcd($a / $g, $b / $g) == 1;
}
print "OK gcd_lcm\n";
