# Shared by the benchmark scripts (sourced): wait for a quiet machine before measuring.

# Busy share of all CPUs over 3 s, in percent, from /proc/stat.
cpu_busy() {
  local a b
  a=($(head -1 /proc/stat))
  sleep 3
  b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
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
