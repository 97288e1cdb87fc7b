#!/usr/bin/env bash
# `npm run test:kernel` (opt-in, 2-10 minutes a kernel): the shipped capture script for real, inside
# Debian kernels booted under QEMU/TCG (scripts/kernel-lab/), then `analyze` on what it packed.
#
#   bash scripts/test-kernel.sh [--kernel 6.1|6.12|7|all]     (or TEST_KERNEL=...; default 6.1)
#
#   6.1   bookworm's 6.1.0-56-amd64 (installed package): the capture's kprobes path
#   6.12  trixie's 6.12.117+deb13-amd64, downloaded: the dma:* path
#   7     sid's newest 7.x (linux-binary-*, linux-modules-*, linux-base-*), downloaded: the dma:* path
#
# Two boots each, NVMe + AHCI driven by the same O_DIRECT workload: swiotlb=force (a 64 MiB pool) and
# swiotlb=512,force (a 1 MiB pool, so maps fail). Where scripts/kernel-lab/ has in-lock probes for the
# exact build (probes-<release>.txt), the lab records the kernel's own slot for every map beside the
# capture (scripts/kernel-lab/truth.mjs), replays it under the mainline profile (0 mismatches
# allowed, races apart) and checks the capture's counts against it. On 6.1 with Debian's trace-cmd
# installed, a third boot records one workload as tracefs text, trace.dat and perf (see
# scripts/kernel-traces/) and checks that they analyse alike.
#
# Needs (Debian): qemu-system-x86 busybox-static cpio kmod gcc libc6-dev xz-utils zstd, and for 6.1
# linux-image-6.1.0-56-amd64 (optional: trace-cmd, linux-perf).
# Environment: WORK (scratch folder), KEEP_TRUTH=DIR (copy each run's capture and truth there).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KERNELS=${TEST_KERNEL:-6.1}
while [ $# -gt 0 ]; do
  case $1 in
  --kernel) KERNELS=$2; shift 2 ;;
  --kernel=*) KERNELS=${1#--kernel=}; shift ;;
  *) echo "usage: test-kernel.sh [--kernel 6.1|6.12|7|all]"; exit 2 ;;
  esac
done
[ "$KERNELS" = all ] && KERNELS="6.1 6.12 7"
KERNELS=${KERNELS//,/ }
BASE=${WORK:-${TMPDIR:-/tmp}/swiotlb-lens-kernel}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v modprobe >/dev/null || missing+=(kmod)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v xz >/dev/null || missing+=(xz-utils)
command -v zstd >/dev/null || missing+=(zstd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test:kernel: missing ${missing[*]}: apt-get install -y ${missing[*]}"
  exit 2
fi
# the analysis of this tree, not an older build's
(cd "$ROOT" && node scripts/build.mjs >/dev/null)
# shellcheck source=kernel-lab/lab.sh
. "$ROOT/scripts/kernel-lab/lab.sh"

check() {
  local name=$1 json=$2 kernel=$3 truth=$4
  node - "$json" "$name" "$kernel" "$truth" <<'EOF'
const fs = require('fs');
const [file, name, kernel, truthFile] = process.argv.slice(2);
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
const dma = kernel !== '6.1';
if (j.input.events !== (dma ? 'dma:* events' : 'swiotlb probes')) fail(`events ${j.input.events}`);
// the release the capture recorded decides the profile: 6.1's for 6.1, the mainline family after
const want = dma ? /^(6\.1[2-9]|[7-9]\.|mainline)/ : /^6\.1\./;
if (!want.test(j.kernel.profile)) fail(`profile ${j.kernel.profile}`);
if (c.maps < 100) fail(`only ${c.maps} maps`);
if (c.unmaps + c.failed + j.occupancy.live_at_end !== c.maps) fail('maps and unmaps do not pair up');
if (!j.check.fits.includes(j.kernel.profile)) fail(`best fit ${j.check.fits}, not ${j.kernel.profile}`);
const own = j.check.profiles.find((p) => p.name === j.kernel.profile);
if (!own || own.lost > 0 || own.mismatches > own.compared / 100) fail(`${j.kernel.profile}: ${own?.mismatches} mispredicted, ${own?.lost} not followable`);
if (j.pool.base === null) fail('the pool start was not captured');
if (truthFile) {
  const t = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
  const k = t.counts.in_capture;
  console.log(`${name}: truth (in-lock probes): ${k.maps} map attempts, ${k.failed} failed in the capture's window; ${t.counts.maps} maps, ${t.counts.races} races, peak ${t.peak_slots} in lock order (debugfs hiwater ${t.debugfs_hiwater}, counted outside the lock) since the drivers loaded`);
  if (t.problems.length) fail(`truth: ${t.problems.slice(0, 3).join('; ')}`);
  // what the capture packed: one swiotlb_bounced per attempt (dma:* events miss the entries of a
  // scatterlist that failed part-way; the kprobes path sees every call)
  if ((dma ? c.bounced : c.maps) !== k.maps) fail(`the capture holds ${dma ? c.bounced : c.maps} map attempts, the kernel made ${k.maps}`);
  if (c.failed > k.failed) fail(`${c.failed} failed, the kernel failed ${k.failed}`);
  // what the analysis made of it (issue 12: attempts and failures of part-way scatterlists)
  if (c.maps !== k.maps || c.failed !== k.failed) console.log(`${name}: analysis gap: ${c.maps} map attempts (${c.failed} failed), the kernel made ${k.maps} (${k.failed} failed)`);
}
EOF
}

run() {
  local name=$1 append=$2 truth=""
  truncate -s 64M "$WORK/$name-nvme.img" "$WORK/$name-ahci.img"
  INITRD="$WORK/kcap.cpio.gz" lab_boot "$name" 900 "$append" -m 2G -smp 2 \
    -drive "file=$WORK/$name-nvme.img,if=none,id=n0,format=raw" -device nvme,drive=n0,serial=nvme0 \
    -device ahci,id=ahci0 -drive "file=$WORK/$name-ahci.img,if=none,id=s0,format=raw" -device ide-hd,drive=s0,bus=ahci0.0
  rm -f "$WORK/$name-nvme.img" "$WORK/$name-ahci.img"
  local res="$WORK/res-$name" cap="$WORK/res-$name/capture"
  [ -s "$cap/trace.txt" ] || { echo "$name: no capture (serial log: $WORK/serial-$name.log)"; tail -20 "$WORK/serial-$name.log"; return 1; }
  grep -v 'records \(in\|out\)$' "$res/capture.out"
  [ -s "$res/insmod.err" ] && { echo "$name: insmod:"; cat "$res/insmod.err"; }
  # the capture's pool-start probe fires once, not at every bounce
  local pb
  pb=$(grep -c ' pool_base: ' "$cap/trace.txt" || true)
  if [ "$LAB_KERNEL" != 6.1 ] && [ "$pb" -ne 1 ]; then echo "$name: FAIL: $pb pool_base events (want 1)"; return 1; fi
  node "$ROOT/dist/cli.js" analyze "$cap" --json >"$WORK/$name.json"
  node "$ROOT/dist/cli.js" analyze "$cap" >"$WORK/$name.txt"
  if [ -s "$res/truth-trace.txt" ]; then
    node "$ROOT/scripts/kernel-lab/truth.mjs" "$res" "$WORK/$name" >/dev/null
    truth="$WORK/$name.summary.json"
    # the kernel's own placements under the mainline profile: the last line says "N ops, M mismatches, R races"
    node "$ROOT/dist/cli.js" replay "$WORK/$name.ops.jsonl" --kernel mainline --check >"$WORK/$name.replay.txt" 2>&1 ||
      { echo "$name: FAIL: the mainline profile does not replay the kernel's placements:"; grep -v '^{' "$WORK/$name.replay.txt" | head; return 1; }
    echo "$name: replay of the kernel's in-lock placements, mainline profile: $(tail -1 "$WORK/$name.replay.txt")"
    if [ -n "${KEEP_TRUTH:-}" ]; then
      mkdir -p "$KEEP_TRUTH/$KVER"
      rm -rf "${KEEP_TRUTH:?}/$KVER/$name"
      cp -r "$cap" "$KEEP_TRUTH/$KVER/$name"
      cp "$WORK/$name.ops.jsonl" "$WORK/$name.summary.json" "$KEEP_TRUTH/$KVER/"
    fi
  fi
  check "$name" "$WORK/$name.json" "$LAB_KERNEL" "$truth"
}

status=0
for k in $KERNELS; do
  export WORK=$BASE/$k
  mkdir -p "$WORK"
  unset KVER
  lab_kernel "$k" || exit 2
  probes=$ROOT/scripts/kernel-lab/probes-$KVER.txt
  extra=("$ROOT/media/capture/swiotlb-capture.sh" "$ROOT/scripts/kernel-lab/workload.sh")
  rm -f "$WORK/truth-probes.txt"
  if [ -e "$probes" ]; then cp "$probes" "$WORK/truth-probes.txt"; extra+=("$WORK/truth-probes.txt"); fi
  lab_initramfs "$ROOT/scripts/kernel-lab/init.sh" "$WORK/kcap.cpio.gz" "${extra[@]}"
  lab_config | grep -E '^(# )?CONFIG_SWIOTLB_DYNAMIC[= ]' | sed "s/^/$k: /" || true
  run "kcap-$k-force" "swiotlb=force" || status=1
  run "kcap-$k-small" "swiotlb=512,force" || status=1
done
if [[ " $KERNELS " == *" 6.1 "* ]]; then
  if command -v trace-cmd >/dev/null; then
    WORK="$BASE/ktr" bash "$ROOT/scripts/kernel-traces/record.sh" 6.1 "$BASE/ktr-small" "swiotlb=512,force"
    (cd "$ROOT" && node --import tsx scripts/kernel-traces/compare.ts dist/cli.js "$BASE/ktr-small")
  else
    echo "test:kernel: trace-cmd is not installed: trace.dat not recorded (apt-get install -y trace-cmd linux-perf)"
  fi
fi
echo "test:kernel: reports in $BASE/*/kcap-*.txt"
exit $status
