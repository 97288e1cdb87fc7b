# A short NVMe + AHCI workload: O_DIRECT reads and writes of several sizes, two CPUs at once
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
snap() { for f in /sys/kernel/tracing/trace_marker /sys/kernel/tracing/instances/text/trace_marker; do echo "PHASE $1" >$f 2>/dev/null; done; }
for d in /dev/nvme0n1 /dev/sda; do
  snap "$d direct 4k/64k/1M"
  dd if=/dev/zero of=$d bs=4k count=4 oflag=direct 2>&1 | tail -1
  dd if=$d of=/dev/null bs=64k count=4 iflag=direct 2>&1 | tail -1
  dd if=$d of=/dev/null bs=1M count=1 iflag=direct 2>&1 | tail -1
  snap "$d misaligned"
  dio $d w 512 4608 2 $((8*1048576)); dio $d r 2048 66048 2 $((8*1048576))
  snap "$d parallel 1M"
  for c in 0 1; do dd if=$d of=/dev/null bs=1M count=2 skip=$((c*8)) iflag=direct 2>&1 | tail -1 & done; wait
done
snap "both disks 4 x 1M at once"
for c in 0 1; do
  dd if=/dev/nvme0n1 of=/dev/null bs=1M count=2 skip=$((c*8)) iflag=direct 2>&1 | tail -1 &
  dd if=/dev/sda of=/dev/null bs=1M count=2 skip=$((c*8)) iflag=direct 2>&1 | tail -1 &
done
wait
