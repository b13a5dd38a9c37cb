#!/usr/bin/env bash
# run_qemu.sh - runs one QEMU test kernel and judges its serial log.
#
#   run_qemu.sh [--timeout SECONDS] --pass-status N [--log FILE] -- QEMU-COMMAND...
#
# The kernel prints one "PASS name" / "FAIL name: why" / "SKIP name: why"
# line per check, then "RESULT pass=N fail=M skip=K", and makes QEMU exit
# with a status that means pass or fail; which status means pass depends on
# the exit device (x86 isa-debug-exit: (value << 1) | 1, so 1), hence
# --pass-status.  The test passes only if QEMU exits with that status within
# the timeout AND the log has "RESULT pass=N fail=0" with N > 0 AND no FAIL
# line.  The log goes to stdout (CTest shows it) and to --log FILE.
set -u

timeout_s=60
pass_status=
log=
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s=$2; shift 2 ;;
    --pass-status) pass_status=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run_qemu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$pass_status" ] || [ $# -eq 0 ]; then
  echo "usage: run_qemu.sh [--timeout S] --pass-status N [--log FILE] -- qemu-system-... ARGS" >&2
  exit 2
fi
tmp=
if [ -z "$log" ]; then
  tmp=$(mktemp)
  log=$tmp
fi
trap '[ -n "$tmp" ] && rm -f "$tmp"' EXIT

echo "run_qemu.sh: $*"
# stdin from /dev/null: QEMU's -nographic console must not wait on a terminal.
# The serial log has CRLF line ends; the judging below ignores the CR.
timeout -k 5 "$timeout_s" "$@" </dev/null 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo

verdict() {
  echo "run_qemu.sh: $*"
}
clean=$(tr -d '\r' <"$log")
result=$(printf '%s\n' "$clean" | grep -E '^RESULT pass=[0-9]+ fail=[0-9]+' | tail -n 1)
fails=$(printf '%s\n' "$clean" | grep -c '^FAIL')

ok=1
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  verdict "FAIL: QEMU timed out after ${timeout_s}s"
  ok=0
elif [ "$status" -ne "$pass_status" ]; then
  verdict "FAIL: QEMU exited with status $status, pass is $pass_status"
  ok=0
fi
if [ -z "$result" ]; then
  verdict "FAIL: no RESULT line in the log"
  ok=0
elif ! printf '%s\n' "$result" | grep -Eq '^RESULT pass=[1-9][0-9]* fail=0( |$)'; then
  verdict "FAIL: $result"
  ok=0
fi
if [ "$fails" -ne 0 ]; then
  verdict "FAIL: $fails FAIL line(s) in the log"
  ok=0
fi
if [ "$ok" -eq 1 ]; then
  verdict "PASS ($result, QEMU status $status)"
  exit 0
fi
exit 1
