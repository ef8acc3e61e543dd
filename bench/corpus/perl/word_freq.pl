use strict;
use warnings;

my $text = "the quick brown fox jumps over the lazy dog and the dog sleeps while the fox runs " x 400;
my %count;
$count{lc $1}++ while $text =~ /([A-Za-z']+)/g;
my @top = sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;
die "top" unless $top[0] eq 'the' && $count{the} == 1600;
die "fox" unless $count{fox} == 800 && $count{dog} == 800;
my $total = 0;
$total += $_ for values %count;
my @words = split ' ', $text;
die "total" unless $total == scalar @words;
print "OK word_freq\n";
