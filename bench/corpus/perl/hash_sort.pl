use strict;
use warnings;

my %scores;
my $seed = 42;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed }
for my $i (1 .. 5000) {
    push @{ $scores{"team" . ($i % 40)} }, rnd() % 1000;
}
my %avg;
for my $t (keys %scores) {
    my $sum = 0;
    $sum += $_ for @{ $scores{$t} };
    $avg{$t} = $sum / @{ $scores{$t} };
}
my @ranked = sort { $avg{$b} <=> $avg{$a} or $a cmp $b } keys %avg;
die "teams" unless @ranked == 40;
for my $i (1 .. $#ranked) { die "order" if $avg{$ranked[$i - 1]} < $avg{$ranked[$i]} }
my @all = sort { $a <=> $b } map { @$_ } values %scores;
die "count" unless @all == 5000;
for my $i (1 .. $#all) { die "sorted" if $all[$i - 1] > $all[$i] }
print "OK hash_sort\n";
