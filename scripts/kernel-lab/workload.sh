# The capture lab's workload: O_DIRECT reads and writes of several sizes and buffer offsets on NVMe
# (min_align_mask 0xfff) and AHCI, then both CPUs at once; phase markers in the capture's instance.
snap() { echo "PHASE $1" >/sys/kernel/tracing/instances/swiotlb-lens/trace_marker 2>/dev/null; }
dropc() { sync; echo 3 >/proc/sys/vm/drop_caches; }
for d in /dev/nvme0n1 /dev/sda; do
  for spec in 4k:8 64k:4 128k:4 512k:2 1M:2; do
    bs=${spec%:*}; n=${spec#*:}
    snap "$d dd write direct $bs"; dd if=/dev/zero of=$d bs=$bs count=$n oflag=direct 2>&1 | tail -1
    snap "$d dd read direct $bs"; dd if=$d of=/dev/null bs=$bs count=$n iflag=direct 2>&1 | tail -1
  done
  dropc
  snap "$d dd read buffered 1M"; dd if=$d of=/dev/null bs=1M count=2 2>&1 | tail -1
  dropc
  for off in 512 2048 3584; do
    for sz in 512 3584 4608 66048; do
      snap "$d dio misaligned off $off size $sz"
      dio $d w $off $sz 2 $((8 * 1048576)) >/dev/null; dio $d r $off $sz 2 $((8 * 1048576)) >/dev/null
    done
  done
  snap "$d parallel read 128k"
  c=0; while [ $c -lt $(nproc) ]; do dio $d r 0 131072 8 $((c * 4 * 1048576)) $c >/dev/null & c=$((c + 1)); done; wait
  snap "$d parallel write 64k"
  c=0; while [ $c -lt $(nproc) ]; do dio $d w 0 65536 8 $((16 * 1048576 + c * 4 * 1048576)) $c >/dev/null & c=$((c + 1)); done; wait
done
snap "both disks 1M at once"
for c in 0 1; do
  dd if=/dev/nvme0n1 of=/dev/null bs=1M count=2 skip=$((c * 8)) iflag=direct 2>&1 | tail -1 &
  dd if=/dev/sda of=/dev/null bs=1M count=2 skip=$((c * 8)) iflag=direct 2>&1 | tail -1 &
done
wait
snap "done"
