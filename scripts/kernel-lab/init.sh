#!/bin/sh
# /init of the capture lab (busybox): optionally sets up the lab's own probes (/truth-probes.txt, one
# kprobe_events line each) in the top-level trace buffer, loads the disk drivers (/modules.order),
# runs the shipped capture script around /workload.sh, and writes everything as a tar archive onto
# /dev/vda (virtio-blk without VIRTIO_F_ACCESS_PLATFORM bypasses the DMA API: it never bounces).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
O=/out
mkdir -p $O /tmp
T=/sys/kernel/tracing
if [ -s /truth-probes.txt ]; then
  # the lab's ground truth: probes inside the allocator, in the top-level buffer, set before the
  # drivers load so that they see every map from the first (each area's search starts at 0). Its
  # counter clock is the capture instance's global counter: both buffers merge in one exact order.
  mount -t tracefs tracefs $T
  mount -t debugfs debugfs /sys/kernel/debug
  echo 0 >$T/tracing_on
  echo counter >$T/trace_clock
  echo 0 >$T/options/overwrite
  echo 40960 >$T/buffer_size_kb
  echo 0 >/proc/sys/debug/kprobes-optimization
  grep -v '^#' /truth-probes.txt | grep -v '^$' | while read -r l; do
    echo "$l" >>$T/kprobe_events || echo "kprobe failed: $l" >>$O/kprobe.err
  done
  cat $T/kprobe_events >$O/truth-probes.txt
  echo 1 >$T/events/swt/enable
  echo 1 >$T/tracing_on
fi
for m in $(cat /modules.order); do
  insmod /lib/modules/$m.ko 2>>$O/insmod.err || echo "insmod $m failed" >>$O/insmod.err
done
waitdev() { i=0; while [ $i -lt 150 ] && [ ! -b $1 ]; do sleep 0.1; i=$((i + 1)); done; [ -b $1 ] || echo "no $1" >>$O/insmod.err; }
waitdev /dev/nvme0n1
waitdev /dev/sda
sleep 1
START=$(cut -d' ' -f1 /proc/uptime)
sh /swiotlb-capture.sh -o $O/capture -n -- sh /workload.sh >$O/capture.out 2>&1
echo "capture rc=$? started at $START s after boot, ended at $(cut -d' ' -f1 /proc/uptime) s" >>$O/capture.out
if [ -s /truth-probes.txt ]; then
  echo 0 >$T/tracing_on
  cp $T/trace $O/truth-trace.txt
  cat $T/kprobe_profile >$O/truth-kprobe_profile.txt
  for c in $T/per_cpu/cpu*; do echo "== $c"; cat $c/stats; done >$O/truth-ring_stats.txt
fi
ls /sys/kernel/tracing/events/dma >$O/dma_events.txt 2>/dev/null
grep -E ' (swiotlb|__swiotlb|io_tlb)' /proc/kallsyms >$O/kallsyms_swiotlb.txt
tar -cf /dev/vda -C $O . && echo "KCAP: tar ok"
sync
poweroff -f
