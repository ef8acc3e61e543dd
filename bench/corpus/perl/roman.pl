use strict;
use warnings;

my @pairs = ([1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'],
             [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']);
my %val = (I => 1, V => 5, X => 10, L => 50, C => 100, D => 500, M => 1000);

sub to_roman {
    my $n = shift;
    my $s = '';
    for my $p (@pairs) {
        while ($n >= $p->[0]) { $s .= $p->[1]; $n -= $p->[0] }
    }
    return $s;
}

sub from_roman {
    my @c = split //, shift;
    my $t = 0;
    for my $i (0 .. $#c) {
        my $v = $val{$c[$i]};
        $t += ($i < $#c && $val{$c[$i + 1]} > $v) ? -$v : $v;
    }
    return $t;
}

die "1994" unless to_roman(1994) eq 'MCMXCIV';
for my $n (1 .. 3999) { die "roundtrip $n" unless from_roman(to_roman($n)) == $n }
print "OK roman\n";
