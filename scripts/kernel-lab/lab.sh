# scripts/kernel-lab/lab.sh: the kernel labs of `npm run test:kernel`, sourced by scripts/test-kernel.sh.
# One set of functions for Debian's 6.1 (installed package), trixie's 6.12 and sid's current 7.x
# (downloaded with an apt configuration of our own, unpacked with dpkg-deb -x; /etc/apt is not changed).
#
#   lab_kernel 6.1|6.12|7   sets KVER, KIMG (the kernel image), KMODS (the folder holding lib/modules/$KVER)
#   lab_initramfs INIT OUT [FILE...]  busybox, the disk drivers in dependency order, dio, INIT as /init
#                           and each FILE at /; OUT is a gzip'd cpio archive
#   lab_boot NAME TIMEOUT "APPEND" QEMU_ARGS...  boots under QEMU/TCG; the guest writes a tar archive
#                           onto /dev/vda, unpacked into $WORK/res-NAME; serial log $WORK/serial-NAME.log.
#                           A boot that left no result is retried (multi-threaded TCG now and then oopses
#                           while the kernel patches its text at boot)
# Environment: WORK (scratch folder), KVER (override the release), LAB_SUITE_URI (the archive; default
# the one this machine's apt uses).
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# an apt configuration that sees one more suite of the archive this machine already uses
lab_apt() {
  local suite=$1 d=$WORK/apt-$1 uri=${LAB_SUITE_URI:-}
  mkdir -p "$d/lists/partial"
  [ -n "$uri" ] || uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  echo "deb $uri $suite main" >"$d/sources.list"
  APT=(-o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=/nonexistent -o "Dir::State::Lists=$d/lists")
  [ -n "$(ls "$d/lists" 2>/dev/null | grep -v -e partial -e lock)" ] || apt-get "${APT[@]}" update -q >"$d/update.log" 2>&1 ||
    { echo "lab: apt-get update of $suite failed ($d/update.log)"; return 1; }
}

# download packages of a suite and unpack them into KROOT
lab_unpack() {
  local suite=$1; shift
  lab_apt "$suite" || return 1
  mkdir -p "$WORK/deb" "$KROOT"
  (cd "$WORK/deb" && apt-get "${APT[@]}" download "$@" >"$WORK/deb/download.log" 2>&1) ||
    { echo "lab: apt-get download $* failed ($WORK/deb/download.log)"; return 1; }
  local p
  for p in "$@"; do dpkg-deb -x "$WORK/deb/${p}_"*.deb "$KROOT"; done
  depmod -b "$KROOT/usr" "$KVER"
}

lab_kernel() {
  LAB_KERNEL=$1
  case $1 in
  6.1)
    KVER=${KVER:-6.1.0-56-amd64}
    KIMG=/boot/vmlinuz-$KVER
    KMODS=/
    [ -e "$KIMG" ] || { echo "lab: missing linux-image-$KVER: apt-get install -y linux-image-$KVER"; return 2; }
    ;;
  6.12)
    KVER=${KVER:-6.12.117+deb13-amd64}
    KROOT=$WORK/root-$KVER
    KIMG=$KROOT/boot/vmlinuz-$KVER
    KMODS=$KROOT/usr
    [ -e "$KIMG" ] || lab_unpack trixie "linux-image-$KVER-unsigned" || return 1
    ;;
  7 | 7.x | sid)
    if [ -z "${KVER:-}" ]; then
      # sid's newest 7.x amd64 build; since 7.x Debian splits it into linux-binary (the image),
      # linux-modules and linux-base
      lab_apt sid || return 1
      KVER=$(apt-cache "${APT[@]}" search --names-only '^linux-binary-7\.[0-9.]+\+deb[0-9]+-amd64$' |
        awk '{print $1}' | sed 's/^linux-binary-//' | sort -V | tail -1)
      [ -n "$KVER" ] || { echo "lab: no linux-binary-7.*-amd64 in sid"; return 1; }
    fi
    KROOT=$WORK/root-$KVER
    KIMG=$KROOT/usr/lib/modules/$KVER/vmlinuz
    KMODS=$KROOT/usr
    [ -e "$KIMG" ] || lab_unpack sid "linux-binary-$KVER" "linux-modules-$KVER" "linux-base-$KVER" || return 1
    ;;
  *) echo "lab: unknown kernel $1 (6.1, 6.12 or 7)"; return 2 ;;
  esac
  echo "lab: kernel $KVER ($KIMG)"
}

# the kernel's build configuration (Debian ships it beside the image)
lab_config() {
  local c
  for c in "$KMODS/lib/modules/$KVER/config" "$(dirname "$KIMG")/config-$KVER"; do
    [ -e "$c" ] && { cat "$c"; return 0; }
  done
  return 1
}

lab_initramfs() {
  local init=$1 out=$2; shift 2
  local r m f
  r=$(mktemp -d "$WORK/initramfs.XXXX")
  mkdir -p "$r"/{bin,sbin,proc,sys,dev,tmp,mnt,out,lib/modules,etc}
  cp /bin/busybox "$r/bin/busybox"
  for m in $(/bin/busybox --list); do [ -e "$r/bin/$m" ] || ln -s busybox "$r/bin/$m"; done
  # the drivers and what they need, in the order modprobe would load them (built-in ones skipped);
  # .ko.xz / .ko.zst decompressed for busybox's insmod. virtio_pci carries the result disk.
  : >"$r/modules.order"
  for m in virtio_pci virtio_blk nvme ahci sd_mod; do
    modprobe -d "$KMODS" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
  done | awk '!seen[$0]++' | while read -r f; do
    m=$(basename "$f"); m=${m%.xz}; m=${m%.zst}; m=${m%.ko}
    case $f in
    *.xz) xz -dc "$f" >"$r/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" >"$r/lib/modules/$m.ko" ;;
    *) cp "$f" "$r/lib/modules/$m.ko" ;;
    esac
    echo "$m" >>"$r/modules.order"
  done
  cp "$init" "$r/init"
  chmod +x "$r/init"
  for f in "$@"; do cp "$f" "$r/"; done
  [ -x "$WORK/dio" ] || gcc -O2 -static -o "$WORK/dio" "$LAB_DIR/dio.c"
  cp "$WORK/dio" "$r/bin/dio"
  (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
  rm -rf "$r"
}

lab_boot() {
  local name=$1 tmo=$2 append=$3; shift 3
  local try rc t0
  for try in 1 2 3; do
    rm -f "$WORK/out-$name.img"
    truncate -s 1G "$WORK/out-$name.img"
    t0=$SECONDS
    timeout "$tmo" qemu-system-x86_64 -accel tcg -cpu max -nodefaults -display none -serial stdio -no-reboot \
      -kernel "$KIMG" -initrd "${INITRD:?}" -append "console=ttyS0 nokaslr panic=-1 loglevel=7 $append" \
      -drive "file=$WORK/out-$name.img,if=none,id=out,format=raw" -device virtio-blk-pci,drive=out \
      "$@" </dev/null >"$WORK/serial-$name.log" 2>&1
    rc=$?
    rm -rf "$WORK/res-$name"
    mkdir -p "$WORK/res-$name"
    tar -xf "$WORK/out-$name.img" -C "$WORK/res-$name" 2>/dev/null
    rm -f "$WORK/out-$name.img"
    echo "$name: $KVER, qemu rc=$rc, $((SECONDS - t0)) s (try $try)"
    [ -n "$(ls "$WORK/res-$name")" ] && return 0
    grep -m3 -E 'Oops|panic|BUG' "$WORK/serial-$name.log"
  done
  return 1
}
