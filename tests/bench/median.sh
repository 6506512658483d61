# Sourced by the bench scripts.
# median: the median of the numbers on standard input, one a line (of an
# even count, the lower of the middle two); prints nothing for no input.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
