# One enormous line with no newline ever.
$| = 1;
my $chunk = "x" x 1048576;
print $chunk while 1;
