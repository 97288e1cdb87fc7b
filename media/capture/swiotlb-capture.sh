#!/bin/sh
# swiotlb-capture.sh: records what SWIOTLB Lens needs to analyse a machine's DMA bouncing.
#
#   sudo sh swiotlb-capture.sh [-d SECONDS] [-o DIR] [-b KB] [-m auto|dma|kprobes] [-n] [-- COMMAND ...]
#
# Traces swiotlb activity for SECONDS (default 30), or while COMMAND runs, into the folder DIR
# (default ./swiotlb-capture-<host>-<time>) and packs it as DIR.tar.gz; give the folder or the
# archive to "swiotlb-lens analyze" or the "SWIOTLB: Analyze Trace or Log File..." command.
#
#   -d SECONDS  how long to trace when no COMMAND is given (default 30)
#   -o DIR      output folder
#   -b KB       ring buffer per CPU in KiB (default 16384)
#   -m MODE     dma: the dma:* tracepoints (Linux 6.12 and later); kprobes: probes on
#               swiotlb_tbl_map_single / swiotlb_tbl_unmap_single (any kernel with kprobes);
#               auto (default): dma when the kernel has the dma:* events, else kprobes
#   -n          keep the folder only, no .tar.gz
#
# What it records: the trace (swiotlb:swiotlb_bounced, plus the dma:* events or the probes,
# with a global counter clock so events of different CPUs are in their true order), the kernel
# command line, version and CPU count, the swiotlb lines of the kernel log, debugfs counters,
# which driver each PCI device has, and the probes' hit/miss counts. Tracing runs in its own
# tracefs instance; the probes and the instance are removed at the end. Needs root.
# POSIX sh: runs under dash, bash and busybox.

set -u
DURATION=30
OUT=""
BUF_KB=16384
MODE=auto
PACK=1
while getopts "d:o:b:m:nh" opt; do
  case $opt in
    d) DURATION=$OPTARG ;;
    o) OUT=$OPTARG ;;
    b) BUF_KB=$OPTARG ;;
    m) MODE=$OPTARG ;;
    n) PACK=0 ;;
    h | *)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
      [ "$opt" = h ] && exit 0
      exit 2
      ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift

say() { echo "swiotlb-capture: $*" >&2; }
die() {
  say "$*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (tracefs and kprobes)"
case $MODE in auto | dma | kprobes) ;; *) die "-m must be auto, dma or kprobes" ;; esac

# ---- tracefs
T=""
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
  [ -e "$d/trace" ] && T=$d && break
done
if [ -z "$T" ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null && T=/sys/kernel/tracing
fi
[ -n "$T" ] && [ -e "$T/trace" ] || die "no tracefs (kernel without CONFIG_FTRACE, or not mountable)"
[ -d /sys/kernel/debug/swiotlb ] || mount -t debugfs nodev /sys/kernel/debug 2>/dev/null

HOST=$(uname -n 2>/dev/null || echo host)
[ -n "$OUT" ] || OUT="./swiotlb-capture-$HOST-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT" || die "cannot create $OUT"
LOG="$OUT/capture.log"
: >"$LOG"
note() {
  echo "$*" >>"$LOG"
  say "$*"
}

INST="$T/instances/swiotlb-lens"
GROUP=swiotlb_lens
KPROBES=""
POOL_READ=""

cleanup() {
  [ -d "$INST" ] && echo 0 >"$INST/tracing_on" 2>/dev/null
  if [ -n "$KPROBES" ]; then
    [ -d "$INST/events/$GROUP" ] && echo 0 >"$INST/events/$GROUP/enable" 2>/dev/null
    for e in $KPROBES; do echo "-:$GROUP/$e" >>"$T/kprobe_events" 2>/dev/null; done
    KPROBES=""
  fi
  [ -d "$INST" ] && rmdir "$INST" 2>/dev/null
  [ -n "${PIPE_PID:-}" ] && kill "$PIPE_PID" 2>/dev/null
  [ -n "${POOL_PID:-}" ] && kill "$POOL_PID" 2>/dev/null
  PIPE_PID=""
  POOL_PID=""
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

# ---- what the analysis needs besides the trace
cat /proc/cmdline >"$OUT/cmdline.txt" 2>/dev/null
cat /proc/version >"$OUT/version.txt" 2>/dev/null
REL=$(uname -r)
MAJ=$(echo "$REL" | cut -d. -f1)
MIN=$(echo "$REL" | cut -d. -f2 | sed 's/[^0-9].*//')
VER=$((MAJ * 1000 + MIN))
POSSIBLE=$(cat /sys/devices/system/cpu/possible 2>/dev/null)
ONLINE=$(cat /sys/devices/system/cpu/online 2>/dev/null)
# number of CPUs in a list such as "0-3,8-11"
count_cpus() {
  n=0
  for r in $(echo "$1" | tr ',' ' '); do
    case $r in
      *-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;;
      '') ;;
      *) n=$((n + 1)) ;;
    esac
  done
  echo $n
}
NPOSS=$(count_cpus "$POSSIBLE")
NONL=$(count_cpus "$ONLINE")
[ "$NPOSS" -gt 0 ] || NPOSS=$NONL
for dev in /sys/bus/pci/devices/* /sys/bus/platform/devices/*; do
  [ -e "$dev/driver" ] || continue
  echo "$(basename "$dev") $(basename "$(readlink "$dev/driver")")"
done >"$OUT/devices.txt" 2>/dev/null
PATTERN='Linux version|Command line|smpboot: Allowing|nr_cpu_ids|software IO TLB|swiotlb|SWIOTLB|SW-IOMMU|DMA addr|overflow|Memory [Ee]ncryption|PCI-DMA|Invalid sizes|callbacks suppressed'
kernel_log() {
  if dmesg >/dev/null 2>&1; then
    dmesg
  elif command -v journalctl >/dev/null 2>&1; then
    journalctl -k -b --no-pager
  fi
}
debugfs_snapshot() {
  for f in /sys/kernel/debug/swiotlb/io_tlb_*; do
    [ -r "$f" ] && echo "$1 $(basename "$f")=$(cat "$f")"
  done
}
debugfs_snapshot start >"$OUT/debugfs.txt" 2>/dev/null

# ---- tracing set-up, in an instance of our own
[ -d "$INST" ] && rmdir "$INST" 2>/dev/null
mkdir "$INST" 2>/dev/null || die "cannot create the tracefs instance $INST (kernel without instances?)"
echo 0 >"$INST/tracing_on"
# a global counter orders events of different CPUs exactly; else a global clock
if grep -q counter "$INST/trace_clock"; then
  echo counter >"$INST/trace_clock"
  CLOCK=counter
else
  echo global >"$INST/trace_clock" 2>/dev/null
  CLOCK=global
fi
echo "$BUF_KB" >"$INST/buffer_size_kb" 2>/dev/null || note "could not set the buffer size"

have_dma=0
[ -d "$INST/events/dma" ] && { [ -d "$INST/events/dma/dma_map_page" ] || [ -d "$INST/events/dma/dma_map_phys" ]; } && have_dma=1
[ "$MODE" = auto ] && { [ $have_dma = 1 ] && MODE=dma || MODE=kprobes; }
[ "$MODE" = dma ] && [ $have_dma = 0 ] && die "this kernel ($REL) has no dma:* events (6.12+): use -m kprobes"

if [ -d "$INST/events/swiotlb/swiotlb_bounced" ]; then
  echo 1 >"$INST/events/swiotlb/swiotlb_bounced/enable"
else
  note "no swiotlb:swiotlb_bounced tracepoint: bounce reasons will be missing"
fi

# try one probe definition; remember it for clean-up
add_probe() {
  if echo "$1" >>"$T/kprobe_events" 2>/dev/null; then
    KPROBES="$KPROBES $2"
    return 0
  fi
  return 1
}

if [ "$MODE" = dma ]; then
  echo 1 >"$INST/events/dma/enable" || die "cannot enable the dma:* events"
  # the dma:* events do not say where the pool starts (the boot log may have lost its "mapped"
  # line): one probe reads it. Best on debugfs's io_tlb_used reader, which fires once when we read
  # the file after tracing starts; else at the first bounce, switched off again once seen.
  DEBUGFS_USED=/sys/kernel/debug/swiotlb/io_tlb_used
  if [ -w "$T/kprobe_events" ] && grep -q ' io_tlb_default_mem$' /proc/kallsyms 2>/dev/null; then
    if [ -r "$DEBUGFS_USED" ] && grep -q ' io_tlb_used_get$' /proc/kallsyms &&
      add_probe "p:$GROUP/pool_base io_tlb_used_get pool=@io_tlb_default_mem:x64" pool_base; then
      POOL_READ=$DEBUGFS_USED
      echo 1 >"$INST/events/$GROUP/pool_base/enable"
    elif add_probe "p:$GROUP/pool_base swiotlb_tbl_map_single pool=@io_tlb_default_mem:x64" pool_base; then
      echo 1 >"$INST/events/$GROUP/pool_base/enable"
      # trace_pipe consumes what it reads: the first hit shows in the streamed trace.txt
      (
        i=0
        while [ $i -lt 600 ] && [ -d "$INST/events/$GROUP/pool_base" ]; do
          grep -q ' pool_base: ' "$OUT/trace.txt" "$INST/trace" 2>/dev/null && break
          sleep 0.5
          i=$((i + 1))
        done
        echo 0 >"$INST/events/$GROUP/pool_base/enable" 2>/dev/null
      ) &
      POOL_PID=$!
    fi
  fi
else
  [ -w "$T/kprobe_events" ] || die "no kprobe_events (kernel without CONFIG_KPROBE_EVENTS)"
  grep -q ' swiotlb_tbl_map_single$' /proc/kallsyms 2>/dev/null || note "swiotlb_tbl_map_single is not in /proc/kallsyms: the probes may fail"
  # Function-level probes. swiotlb_tbl_map_single's arguments by kernel version:
  #   < 5.16: (dev, orig, mapping_size, alloc_size, dir, attrs)
  #   5.16 ... 6.9: (dev, orig, mapping_size, alloc_size, alloc_align_mask, dir, attrs)
  #   6.10 +: (dev, orig, mapping_size, alloc_align_mask, dir, attrs)
  # dname is the device's kobject name (the first member of struct device, whose first member is
  # the name pointer): the same in every build. On x86-64 the probes go just past the 5-byte
  # __fentry__ call (or endbr64 + call), as plain int3 probes that an interrupt cannot nest
  # into and drop, reading the argument registers; elsewhere at the entry with $argN.
  if [ "$VER" -lt 5016 ]; then
    R="orig=%si:x64 msize=%dx:u64 asize=%cx:u64 dir=%r8:s32 attrs=%r9:x64"
    A="orig=\$arg2:x64 msize=\$arg3:u64 asize=\$arg4:u64 dir=\$arg5:s32 attrs=\$arg6:x64"
  elif [ "$VER" -lt 6010 ]; then
    R="orig=%si:x64 msize=%dx:u64 asize=%cx:u64 amask=%r8:x32 dir=%r9:s32 attrs=+8(%sp):x64"
    A="orig=\$arg2:x64 msize=\$arg3:u64 asize=\$arg4:u64 amask=\$arg5:x32 dir=\$arg6:s32 attrs=\$arg7:x64"
  else
    R="orig=%si:x64 msize=%dx:u64 amask=%cx:x32 dir=%r8:s32 attrs=%r9:x64"
    A="orig=\$arg2:x64 msize=\$arg3:u64 amask=\$arg4:x32 dir=\$arg5:s32 attrs=\$arg6:x64"
  fi
  if [ "$VER" -lt 5012 ]; then
    UR="tlb=%si:x64 msize=%dx:u64 dir=%r8:s32 attrs=%r9:x64"
    UA="tlb=\$arg2:x64 msize=\$arg3:u64 dir=\$arg5:s32 attrs=\$arg6:x64"
  else
    UR="tlb=%si:x64 msize=%dx:u64 dir=%cx:s32 attrs=%r8:x64"
    UA="tlb=\$arg2:x64 msize=\$arg3:u64 dir=\$arg4:s32 attrs=\$arg5:x64"
  fi
  SR="tlb=%si:x64 size=%dx:u64 dir=%cx:s32"
  SA="tlb=\$arg2:x64 size=\$arg3:u64 dir=\$arg4:s32"
  # the pool's start, for locating the kernel's slots: the first member of io_tlb_default_mem
  # (5.13+; struct io_tlb_mem, since 6.6 its first member struct io_tlb_pool), io_tlb_start before
  POOL="pool=@io_tlb_default_mem:x64"
  grep -q ' io_tlb_default_mem$' /proc/kallsyms 2>/dev/null || POOL="pool=@io_tlb_start:x64"
  ok=0
  if [ "$(uname -m)" = x86_64 ]; then
    echo 0 >/proc/sys/debug/kprobes-optimization 2>/dev/null
    for off in 5 9; do
      if add_probe "p:$GROUP/map_entry swiotlb_tbl_map_single+$off $R dname=+0(+0(%di)):string $POOL" map_entry ||
        add_probe "p:$GROUP/map_entry swiotlb_tbl_map_single+$off $R dname=+0(+0(%di)):string" map_entry; then
        add_probe "p:$GROUP/unmap_entry swiotlb_tbl_unmap_single+$off $UR dname=+0(+0(%di)):string" unmap_entry
        add_probe "p:$GROUP/sync_cpu swiotlb_sync_single_for_cpu+$off $SR" sync_cpu
        add_probe "p:$GROUP/sync_dev swiotlb_sync_single_for_device+$off $SR" sync_dev
        ok=1
        PROBES="registers after __fentry__ (+$off)"
        break
      fi
    done
  fi
  if [ $ok = 0 ]; then
    add_probe "p:$GROUP/map_entry swiotlb_tbl_map_single $A dname=+0(+0(\$arg1)):string $POOL" map_entry ||
      add_probe "p:$GROUP/map_entry swiotlb_tbl_map_single $A dname=+0(+0(\$arg1)):string" map_entry ||
      die "cannot probe swiotlb_tbl_map_single (see $T/error_log)"
    add_probe "p:$GROUP/unmap_entry swiotlb_tbl_unmap_single $UA dname=+0(+0(\$arg1)):string" unmap_entry
    add_probe "p:$GROUP/sync_cpu swiotlb_sync_single_for_cpu $SA" sync_cpu
    add_probe "p:$GROUP/sync_dev swiotlb_sync_single_for_device $SA" sync_dev
    PROBES='$argN at function entry'
  fi
  # the bounce address swiotlb_tbl_map_single returns (a kretprobe; room for many calls in flight)
  add_probe "r512:$GROUP/map_ret swiotlb_tbl_map_single ret=\$retval:x64" map_ret ||
    add_probe "r:$GROUP/map_ret swiotlb_tbl_map_single ret=\$retval:x64" map_ret ||
    die "cannot probe the return of swiotlb_tbl_map_single"
  grep "^[pr].*:$GROUP/" "$T/kprobe_events" >"$OUT/kprobe_events.txt"
  echo 1 >"$INST/events/$GROUP/enable" || die "cannot enable the probes"
  note "probes: $PROBES"
fi

# ---- trace
cat >"$OUT/capture.json" <<EOF
{"format":"swiotlb-lens-capture","version":1,"kernel_release":"$REL","kernel_version":"$(sed 's/["\\]/ /g' /proc/version)","machine":"$(uname -m)","cpus_possible":"$POSSIBLE","cpus_online":"$ONLINE","nr_cpus_possible":$NPOSS,"nr_cpus_online":$NONL,"mode":"$MODE","clock":"$CLOCK","started":"$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
EOF
{
  echo "# tracer: nop"
  echo "#"
  echo "# entries-in-buffer/entries-written: 0/0   #P:$NONL"
  echo "#"
} >"$OUT/trace.txt"
# stream the buffer out while tracing, so a long capture is not limited by its size
cat "$INST/trace_pipe" >>"$OUT/trace.txt" &
PIPE_PID=$!
echo "SWIOTLB_LENS capture start mode=$MODE" >"$INST/trace_marker" 2>/dev/null
echo 1 >"$INST/tracing_on"
if [ -n "${POOL_READ:-}" ]; then
  cat "$POOL_READ" >/dev/null 2>&1
  echo 0 >"$INST/events/$GROUP/pool_base/enable" 2>/dev/null
fi
note "tracing ($MODE, clock $CLOCK) into $OUT"
STATUS=0
if [ $# -gt 0 ]; then
  "$@"
  STATUS=$?
else
  sleep "$DURATION"
fi
echo "SWIOTLB_LENS capture end" >"$INST/trace_marker" 2>/dev/null
echo 0 >"$INST/tracing_on"
sleep 1
kill "$PIPE_PID" 2>/dev/null
wait "$PIPE_PID" 2>/dev/null
PIPE_PID=""
# whatever trace_pipe had not read yet
grep -v '^#' "$INST/trace" >>"$OUT/trace.txt" 2>/dev/null
for c in "$INST"/per_cpu/cpu*; do
  echo "== $(basename "$c")"
  cat "$c/stats"
done >"$OUT/ring_stats.txt" 2>/dev/null
# our probes' hits and misses (kprobe_profile names events without their group: only our names)
[ -n "$KPROBES" ] && grep -E "$GROUP/| ($(echo $KPROBES | tr ' ' '|')) " "$T/kprobe_profile" >"$OUT/kprobe_profile.txt" 2>/dev/null
debugfs_snapshot end >>"$OUT/debugfs.txt" 2>/dev/null
kernel_log | grep -E "$PATTERN" >"$OUT/dmesg.txt" 2>/dev/null
cleanup
trap - EXIT INT TERM

EVENTS=$(grep -vc '^#' "$OUT/trace.txt")
note "$EVENTS trace lines; command exit status $STATUS"
if [ $PACK = 1 ]; then
  D=$(dirname "$OUT")
  B=$(basename "$OUT")
  if tar -czf "$OUT.tar.gz" -C "$D" "$B" 2>/dev/null; then
    note "wrote $OUT.tar.gz (and the folder $OUT)"
  else
    note "tar failed: the folder $OUT holds the capture"
  fi
fi
exit $STATUS
