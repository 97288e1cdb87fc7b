#!/usr/bin/env bash
# Records one short workload inside a real kernel under QEMU/TCG, the same events seen three ways:
# tracefs text, `trace-cmd record` (trace.dat, file version 7 with zstd) and `perf record`; then, on
# this machine, `perf script` in several layouts, `trace-cmd report`, and `trace-cmd convert` to file
# version 6 and to an uncompressed version 7.
# usage: record.sh 6.1|6.12 OUTDIR "<kernel command line>"
# Needs (Debian): qemu-system-x86 busybox-static cpio kmod gcc libc6-dev trace-cmd linux-perf, and the
# kernel lab (../shared/tools/kernel-lab, kernel-lab-6.12: its README says how its kernel is fetched).
# Environment: KERNEL_LAB / KERNEL_LAB_612 (the labs), WORK (scratch), KROOT (6.12: the unpacked .deb),
# CLOCK (the trace clock of the text and of trace-cmd: counter by default, or local, global, ...).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WHICH=$1; OUT=$2; APPEND=$3
export WORK=${WORK:-${TMPDIR:-/tmp}/swiotlb-lens-ktr}
mkdir -p "$WORK" "$OUT"
case $WHICH in
6.1)
  LAB=${KERNEL_LAB:-$ROOT/../shared/tools/kernel-lab}
  export KVER=6.1.0-56-amd64
  KERNEL=/boot/vmlinuz-$KVER
  # swiotlb_tbl_map_single's entry and common epilogue, swiotlb_tbl_unmap_single's entry in this exact build
  # (see the lab's init.sh), and a kretprobe whose fields are only rendered, not analysed
  cat >"$WORK/probes.txt" <<'P'
p:swt/map_entry swiotlb_tbl_map_single+5 dev=%di:x64 orig=%si:x64 msize=%dx:u64 asize=%cx:u64 amask=%r8:x32 dir=%r9:s32 attrs=+8(%sp):x64 minalign=+4(+608(%di)):x32 segbnd=+8(+608(%di)):x64 pool=+0(+632(%di)):x64 dname=+0(+0(%di)):string
p:swt/map_ret swiotlb_tbl_map_single+0x18e ret=%ax:x64
p:swt/unmap_entry swiotlb_tbl_unmap_single+5 dev=%di:x64 tlb=%si:x64 msize=%dx:u64 dir=%cx:s32 attrs=%r8:x64 dname=+0(+0(%di)):string
r:swt/map_rret swiotlb_tbl_map_single ret=$retval:x64
P
  printf '%s\n' swiotlb/swiotlb_bounced swt >"$WORK/events.txt"
  echo "virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk" >"$WORK/premods.txt"
  ;;
6.12)
  LAB=${KERNEL_LAB_612:-$ROOT/../shared/tools/kernel-lab-6.12}
  export KVER=6.12.117+deb13-amd64
  export KROOT=${KROOT:-$WORK/root}
  KERNEL=$KROOT/boot/vmlinuz-$KVER
  # the pool start (as the capture script reads it), and a kretprobe whose fields are only rendered
  printf '%s\n' 'p:swt/pool_base swiotlb_tbl_map_single pool=@io_tlb_default_mem:x64' 'r:swt/map_rret swiotlb_tbl_map_single ret=$retval:x64' >"$WORK/probes.txt"
  printf '%s\n' swiotlb/swiotlb_bounced dma swt >"$WORK/events.txt"
  echo "virtio_blk" >"$WORK/premods.txt"
  ;;
*) echo "usage: record.sh 6.1|6.12 OUTDIR APPEND"; exit 2 ;;
esac
[ -e "$KERNEL" ] || { echo "record.sh: no kernel $KERNEL"; exit 2; }
for t in trace-cmd qemu-system-x86_64 cpio gcc; do command -v $t >/dev/null || { echo "record.sh: missing $t"; exit 2; }; done
PERF=$(command -v perf || true)  # optional: without it, no perf.data
gcc -O2 -static -o "$WORK/dio" "$LAB/dio.c"
# the lab's initramfs (busybox, drivers, /scen, dio), then a second cpio archive with our /init,
# trace-cmd, perf and the shared libraries they load (the kernel unpacks concatenated archives in order)
if [ "$WHICH" = 6.1 ]; then bash "$LAB/mkinitramfs.sh" "$HERE/init.sh" "$WORK/lab.cpio.gz" >/dev/null
else bash "$LAB/mkinitramfs.sh" "$HERE/init.sh" "$WORK/probes.txt" "$WORK/lab.cpio.gz" >/dev/null; fi
X=$(mktemp -d "$WORK/extra.XXXX")
mkdir -p "$X/bin" "$X/lib64" "$X/lib/x86_64-linux-gnu"
cp "$(command -v trace-cmd)" $PERF "$X/bin/"
for lib in $(ldd "$(command -v trace-cmd)" $PERF | awk '$3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u); do
  cp -L "$lib" "$X/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$X/lib64/"
cp "$HERE/init.sh" "$X/init"; chmod +x "$X/init"
echo "${CLOCK:-counter}" >"$WORK/clock.txt"
cp "$HERE/workload.sh" "$WORK/clock.txt" "$WORK/probes.txt" "$WORK/events.txt" "$WORK/premods.txt" "$X/"
(cd "$X" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/extra.cpio.gz"
cat "$WORK/lab.cpio.gz" "$WORK/extra.cpio.gz" >"$WORK/ktr.cpio.gz"
rm -rf "$X"
truncate -s 64M "$WORK/nvme.img" "$WORK/ahci.img"
RUN=$LAB/run-qemu.sh
INITRD="$WORK/ktr.cpio.gz" bash "$RUN" ktr 900 "$APPEND" -m 2G -smp 2 \
  -drive "file=$WORK/nvme.img,if=none,id=n0,format=raw" -device nvme,drive=n0,serial=nvme0 \
  -device ahci,id=ahci0 -drive "file=$WORK/ahci.img,if=none,id=s0,format=raw" -device ide-hd,drive=s0,bus=ahci0.0
R=$WORK/res-ktr
[ -s "$R/trace.txt" ] && [ -s "$R/trace.dat" ] || { echo "record.sh: no results"; tail -30 "$WORK/serial-ktr.log"; exit 1; }
cp "$R"/{trace.txt,trace.dat,dmesg.txt,cmdline.txt,uname.txt,ring_stats.txt,event_formats.txt,events_used.txt,trace-cmd.log} "$OUT/"
for f in perf.data perf.log kprobe_events.txt; do [ -e "$R/$f" ] && cp "$R/$f" "$OUT/"; done
cd "$OUT"
trace-cmd convert --file-version 6 -i trace.dat -o trace-v6.dat
trace-cmd convert --file-version 7 --compression none -i trace.dat -o trace-v7-none.dat
trace-cmd report -i trace.dat >trace-cmd-report.txt 2>trace-cmd-report.err || true
if [ -s perf.data ] && [ -n "$PERF" ]; then
  perf script -i perf.data >perf-script.txt 2>/dev/null
  perf script -i perf.data -F comm,pid,tid,cpu,time,event,trace --ns >perf-script-pid-ns.txt 2>/dev/null
  perf script -i perf.data -F +period --header >perf-script-period-header.txt 2>/dev/null
fi
ls -la "$OUT"
