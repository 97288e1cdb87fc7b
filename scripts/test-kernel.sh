#!/usr/bin/env bash
# `npm run test:kernel` (opt-in, 3-10 minutes): the capture script for real, inside Debian's Linux
# 6.1.192 kernel booted under QEMU/TCG with the shared kernel lab (../shared/tools/kernel-lab),
# then `analyze` on what it captured. Two boots: swiotlb=force (a 64 MiB pool, NVMe + AHCI
# driven hard) and swiotlb=512,force (a 1 MiB pool, so maps fail). When Debian's trace-cmd is
# installed, a third boot records one short workload three ways at once (tracefs text, `trace-cmd
# record` to a trace.dat, and `perf record` when linux-perf is installed; see
# scripts/kernel-traces/) and checks that trace.dat (v7 zstd, converted to v6 and to uncompressed
# v7) and perf script give the text's analysis.
#
# Needs (Debian): qemu-system-x86 linux-image-6.1.0-56-amd64 busybox-static cpio kmod gcc libc6-dev
# (optional: trace-cmd, linux-perf)
# Environment: KERNEL_LAB (the lab's folder), WORK (scratch folder), KVER (kernel release).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${KERNEL_LAB:-$ROOT/../shared/tools/kernel-lab}
export WORK=${WORK:-${TMPDIR:-/tmp}/swiotlb-lens-kernel}
export KVER=${KVER:-6.1.0-56-amd64}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -e "/boot/vmlinuz-$KVER" ] || missing+=("linux-image-$KVER")
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v modinfo >/dev/null || missing+=(kmod)
command -v gcc >/dev/null || missing+=("gcc libc6-dev")
[ -d "$LAB" ] || { echo "test:kernel: no kernel lab at $LAB (set KERNEL_LAB)"; exit 2; }
if [ ${#missing[@]} -gt 0 ]; then
  echo "test:kernel: missing ${missing[*]}: apt-get install -y ${missing[*]}"
  exit 2
fi
[ -e "$ROOT/dist/cli.js" ] || (cd "$ROOT" && node scripts/build.mjs)
mkdir -p "$WORK"
gcc -O2 -static -o "$WORK/dio" "$LAB/dio.c"

# /init: the lab's drivers and workloads, our capture script around the workload
cat >"$WORK/init.sh" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
O=/out
mkdir -p $O
ins() { for m in "$@"; do insmod /lib/modules/$m.ko 2>>$O/insmod.err; done; }
snap() { echo "PHASE $1" > /sys/kernel/tracing/instances/swiotlb-lens/trace_marker 2>/dev/null; }
ins virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
. /scen/lib.sh
load_nvme
load_ahci
cat > /bin/workload.sh <<'WL'
#!/bin/sh
snap() { echo "PHASE $1" > /sys/kernel/tracing/instances/swiotlb-lens/trace_marker 2>/dev/null; }
dropc() { sync; echo 3 > /proc/sys/vm/drop_caches; }
. /scen/lib.sh
std_io /dev/nvme0n1 nvme
std_io /dev/sda ahci
WL
chmod +x /bin/workload.sh
START=$(cut -d' ' -f1 /proc/uptime)
sh /bin/swiotlb-capture.sh -o $O/capture -n -- /bin/workload.sh > $O/capture.out 2>&1
echo "capture rc=$? started at $START s after boot, ended at $(cut -d' ' -f1 /proc/uptime) s" >> $O/capture.out
tar -cf /dev/vda -C $O . && echo "KCAP: tar ok"
sync
poweroff -f
EOF
# the capture script goes into /init as a here-document (the lab's initramfs builder copies /init only)
{
  sed -n '1,/^load_ahci$/p' "$WORK/init.sh"
  echo "cat > /bin/swiotlb-capture.sh <<'CAPTURE_SCRIPT'"
  cat "$ROOT/media/capture/swiotlb-capture.sh"
  echo "CAPTURE_SCRIPT"
  sed -n '/^load_ahci$/,$p' "$WORK/init.sh" | tail -n +2
} >"$WORK/init-full.sh"
bash "$LAB/mkinitramfs.sh" "$WORK/init-full.sh" "$WORK/kcap.cpio.gz" >/dev/null

run() {
  local name=$1 append=$2
  truncate -s 64M "$WORK/$name-nvme.img" "$WORK/$name-ahci.img"
  local t0=$SECONDS
  INITRD="$WORK/kcap.cpio.gz" bash "$LAB/run-qemu.sh" "$name" 900 "$append" -m 2G -smp 2 \
    -drive "file=$WORK/$name-nvme.img,if=none,id=n0,format=raw" -device nvme,drive=n0,serial=nvme0 \
    -device ahci,id=ahci0 -drive "file=$WORK/$name-ahci.img,if=none,id=s0,format=raw" -device ide-hd,drive=s0,bus=ahci0.0
  echo "$name: boot + workload + capture: $((SECONDS - t0)) s"
  local cap="$WORK/res-$name/capture"
  [ -s "$cap/trace.txt" ] || { echo "$name: no capture (serial log: $WORK/serial-$name.log)"; tail -20 "$WORK/serial-$name.log"; exit 1; }
  cat "$WORK/res-$name/capture.out"
  node "$ROOT/dist/cli.js" analyze "$cap" --json >"$WORK/$name.json"
  node "$ROOT/dist/cli.js" analyze "$cap" >"$WORK/$name.txt"
  node - "$WORK/$name.json" "$name" <<'EOF'
const fs = require('fs');
const [file, name] = process.argv.slice(2);
const j = JSON.parse(fs.readFileSync(file, 'utf8'));
const fail = (m) => { console.error(`${name}: FAIL: ${m}`); process.exitCode = 1; };
const c = j.counts;
console.log(`${name}: ${j.input.kind}, ${j.input.events}, clock ${j.input.clock}; kernel ${j.kernel.profile} (${j.kernel.source})`);
console.log(`${name}: pool ${j.pool.nslabs} slots at ${j.pool.base}, ${j.pool.nareas} areas (${j.pool.sources.nslabs}; ${j.pool.sources.nareas}; ${j.pool.sources.base})`);
console.log(`${name}: ${c.events} events: ${c.maps} maps (${c.failed} failed), ${c.unmaps} unmaps, ${c.syncs} syncs, ${c.bounced} swiotlb_bounced; peak ${j.occupancy.peak_slots} slots; live at end ${j.occupancy.live_at_end}`);
for (const p of j.check.profiles) console.log(`${name}:   ${p.name.padEnd(10)} ${p.matched}/${p.compared} (${p.agreement_percent} %)${p.warmups ? `, ${p.warmups} before an area's index was known` : ''}${p.lost ? `, ${p.lost} not followable` : ''}`);
console.log(`${name}: fits ${j.check.fits.join(', ')}`);
for (const d of j.diagnostics.slice(0, 10)) console.log(`${name}: diagnostic ${d.file}:${d.line}: ${d.message}`);
if (j.input.kind !== 'trace+log') fail(`input kind ${j.input.kind}`);
if (j.input.events !== 'swiotlb probes') fail(`events ${j.input.events}`);
if (!/^6\.1\./.test(j.kernel.profile)) fail(`profile ${j.kernel.profile}`);
if (c.maps < 100) fail(`only ${c.maps} maps`);
if (c.unmaps + c.failed + j.occupancy.live_at_end !== c.maps) fail('maps and unmaps do not pair up');
if (!j.check.fits.some((f) => /^6\.1/.test(f))) fail(`best fit ${j.check.fits}`);
const six = j.check.profiles[0];
if (six.lost > 0 || six.mismatches > six.compared / 100) fail(`6.1: ${six.mismatches} mispredicted, ${six.lost} not followable`);
if (j.pool.base === null) fail('the pool start was not captured');
EOF
}

run kcap-force "swiotlb=force"
run kcap-small "swiotlb=512,force"
if command -v trace-cmd >/dev/null; then
  WORK="$WORK/ktr" bash "$ROOT/scripts/kernel-traces/record.sh" 6.1 "$WORK/ktr-small" "swiotlb=512,force"
  (cd "$ROOT" && node --import tsx scripts/kernel-traces/compare.ts dist/cli.js "$WORK/ktr-small")
else
  echo "test:kernel: trace-cmd is not installed: trace.dat not recorded (apt-get install -y trace-cmd linux-perf)"
fi
echo "test:kernel: reports in $WORK/kcap-*.txt"
