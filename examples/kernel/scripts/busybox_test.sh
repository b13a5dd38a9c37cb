# busybox_test.sh - what the example kernel must run like Linux (issue #16).
# Run as `sh busybox_test.sh` by Debian's busybox-static, on Linux or as
# /init.sh under examples/kernel/run.sh; check.sh compares the output with
# busybox_test.expected.  Only deterministic output: no times, no pids.
T=/tmp/bbtest.$$
mkdir -p $T || exit 1

echo "== fork, exec, exit: 200 cycles"
i=0
while [ $i -lt 200 ]; do
	sh -c 'exit 3'
	[ $? -eq 3 ] || echo "cycle $i: wrong status"
	i=$((i + 1))
done
echo "cycles: $i"

echo "== nested subshells"
( ( ( echo depth 3; exit 4 ); echo "inner status $?" ) | cat; exit 5 )
echo "outer status $?"
echo "$(echo "$(echo "$(echo nested substitution)")")"
x=$( (echo a; (echo b; (echo c))) | tr '\n' ' ')
echo "x=$x"

echo "== pipelines with large buffers"
seq 1 300000 | sort -rn | head
seq 1 300000 | wc -l
yes pipe | head -n 100000 | sort | uniq -c

echo "== awk arrays and megabyte strings"
awk 'BEGIN {
	for (i = 0; i < 60000; i++) a[i] = i * 3
	s = 0; for (k in a) s += a[k]; print "array sum", s
	x = "0123456789abcdef"
	while (length(x) < 4000000) x = x x
	print "string", length(x), substr(x, 3999990, 8)
	for (j = 0; j < 8; j++) { y = y sprintf("%05d", j); z = z x }
	print "y", y, "z", length(z)
}'
seq 1 20000 | awk '{ m[$1 % 97] = m[$1 % 97] $1 "," } END { print length(m[0]), length(m[96]) }'

echo "== dd through md5sum"
dd if=/dev/zero bs=1M count=16 2>/dev/null | md5sum
dd if=/dev/zero bs=4096 count=100 2>/dev/null | tr '\0' 'a' | md5sum
head -c 300000 /dev/zero | wc -c

echo "== files in /tmp"
cd $T || exit 1
echo first > one
echo second >> one
seq 1 5000 > numbers
mkdir dir
mv numbers dir/n
cat one
wc -l < dir/n
cp dir/n dir/copy
cmp dir/n dir/copy && echo "copies equal"
ls -a . dir
rm dir/n dir/copy one
rmdir dir
ls -a
cd / || exit 1

echo "== background jobs and wait"
(echo job one > $T/j1) &
(seq 1 1000 | tail -n 1 > $T/j2) &
sh -c 'exit 9' &
last=$!
wait $last
echo "last job status $?"
wait
cat $T/j1 $T/j2
rm $T/j1 $T/j2

echo "== a missing program"
no_such_program_anywhere 2>/dev/null
echo "missing status $?"
/bin/does/not/exist 2>/dev/null
echo "missing path status $?"

echo "== more memory than there is"
( ulimit -v 1000000 2>/dev/null
  awk 'BEGIN { x = "0123456789abcdef"; while (1) x = x x }' ) 2>/dev/null
s=$?
[ $s -ne 0 ] && echo "the hungry process failed"
# Two processes that together touch more than the RAM: under 256 MiB one
# of them dies (its mmap succeeded, a later fault cannot be served), on a
# big machine both finish; either way nothing is printed.
( ( sleep 1; dd if=/dev/zero bs=140M count=1 ) |
  dd bs=140M count=1 iflag=fullblock of=/dev/null ) >/dev/null 2>&1
echo "two hungry processes are gone"
seq 1 100000 | awk '{ s += $1 } END { print "after it:", s }'
sh -c 'echo "a new process runs"'

rmdir $T
echo "== done"
exit 3
