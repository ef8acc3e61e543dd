use strict;
use warnings;

sub sieve {
    my $n = shift;
    my @composite;
    my @primes;
    for my $i (2 .. $n) {
        next if $composite[$i];
        push @primes, $i;
        for (my $m = $i * $i; $m <= $n; $m += $i) { $composite[$m] = 1 }
    }
    return @primes;
}

sub is_prime {
    my $n = shift;
    return 0 if $n < 2;
    for (my $d = 2; $d * $d <= $n; $d++) { return 0 if $n % $d == 0 }
    return 1;
}

my @p = sieve(100_000);
die "count" unless @p == 9592;
my @small = grep { is_prime($_) } 0 .. 3000;
die "trial" unless "@small" eq join ' ', grep { $_ <= 3000 } @p;
print "OK primes\n";
