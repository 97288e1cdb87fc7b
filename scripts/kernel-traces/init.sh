#!/bin/sh
# /init of the "same events seen three ways" initramfs (busybox, plus trace-cmd and perf with their
# shared libraries): the kernel's own tracefs text (an instance of its own), `trace-cmd record` (the
# top-level buffer, trace.dat) and `perf record` (perf.data) record the same events of one short
# NVMe + AHCI workload, all with tracing on before the workload starts and off after it ends.
# /events.txt names the events (one tracefs path under events/ per line), /probes.txt the kprobes.
# Results go as a tar archive onto /dev/vda (virtio-blk: no DMA API, never bounces).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
T=/sys/kernel/tracing
I=$T/instances/text
O=/out
mkdir -p $O /tmp
ins() { for m in "$@"; do insmod /lib/modules/$m.ko 2>>$O/insmod.err || echo "insmod $m failed" >>$O/insmod.err; done; }
for m in $(cat /premods.txt); do ins $m; done
snap() { for f in $T/trace_marker $I/trace_marker; do echo "PHASE $1" >$f 2>/dev/null; done; }
. /scen/lib.sh
load_nvme
load_ahci
echo 0 >/proc/sys/debug/kprobes-optimization 2>/dev/null
grep -v '^#' /probes.txt | grep -v '^$' | while read -r l; do echo "$l" >>$T/kprobe_events || echo "kprobe failed: $l" >>$O/kprobe.err; done
cat $T/kprobe_events >$O/kprobe_events.txt
mkdir $I
echo 0 >$I/tracing_on
CLOCK=$(cat /clock.txt)
echo $CLOCK >$I/trace_clock
echo 0 >$I/options/overwrite
echo 16384 >$I/buffer_size_kb
TCE=""; PE=""
for e in $(cat /events.txt); do
  [ -d $T/events/$e ] || continue
  echo 1 >$I/events/$e/enable
  TCE="$TCE -e ${e%/}"
  case $e in */*) PE="$PE -e ${e%%/*}:${e#*/}" ;; *) PE="$PE -e $e:*" ;; esac
done
echo "trace-cmd:$TCE perf:$PE" >$O/events_used.txt
for e in $T/events/swiotlb/swiotlb_bounced $T/events/dma/* $T/events/swt/*; do [ -f $e/format ] && { echo "== $e"; cat $e/format; }; done >$O/event_formats.txt
# trace-cmd stores /proc/kallsyms (megabytes) in every trace.dat: an empty one keeps the files small
: >/tmp/no-kallsyms; mount -o bind /tmp/no-kallsyms /proc/kallsyms 2>>$O/insmod.err
# trace-cmd: trace file version 7, zstd, the same clock as the text (counter: one global order of all CPUs' events)
trace-cmd record -C $CLOCK -b 16384 --file-version 7 --compression zstd $TCE -o $O/trace.dat >$O/trace-cmd.log 2>&1 &
TC=$!
PF=""
if [ -x /bin/perf ]; then
  perf record -a -m 1024 $PE -o $O/perf.data >$O/perf.log 2>&1 &
  PF=$!
fi
sleep 8
echo 1 >$I/tracing_on
snap start
sh /workload.sh >$O/workload.log 2>&1
snap end
echo 0 >$I/tracing_on
sleep 2
[ -n "$PF" ] && kill -INT $PF
kill -INT $TC
[ -n "$PF" ] && wait $PF
wait $TC
cp $I/trace $O/trace.txt
for c in $I/per_cpu/cpu*; do echo "== $c"; cat $c/stats; done >$O/ring_stats.txt
cat $T/kprobe_profile >$O/kprobe_profile.txt 2>/dev/null
dmesg >$O/dmesg.txt
cat /proc/cmdline >$O/cmdline.txt
uname -a >$O/uname.txt
tar -cf /dev/vda -C $O . && echo "KTR: tar ok"
sync
poweroff -f
