# Shared by the benchmark scripts (sourced): wait for a quiet machine before measuring, and
# say how busy it was.

# Busy share of all CPUs over 3 s, in percent, from /proc/stat.
cpu_busy() {
  local a b
  read -r -a a <<< "$(ticks)"
  sleep 3
  read -r -a b <<< "$(ticks)"
  local busy=$((b[0] - a[0])) total=$((b[1] - a[1]))
  echo $((total > 0 ? 100 * busy / total : 0))
}

# Waits (up to 3 minutes) until the CPUs are less than 30% busy, and says how busy they were.
wait_quiet() {
  local busy
  for _ in $(seq 1 60); do
    busy=$(cpu_busy)
    if (( busy < 30 )); then
      echo "(CPU busy ${busy}% before start; loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
      return
    fi
  done
  echo "(machine still busy: CPU ${busy}%, loadavg $(cut -d' ' -f1-3 /proc/loadavg); running anyway)"
}

# CPU ticks (busy, total) from /proc/stat, to say how busy the machine was during a program.
ticks() {
  local a
  read -r -a a < /proc/stat
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + a[i])); done
  echo "$((total - a[4] - a[5])) $total"
}
