# One-pass bounce-slot occupancy of a dma:* trace (6.12+ event formats), the baseline of
# `npm run bench:ingest`. A map whose dma_addr lies in the pool [base, end) holds
# ceil((size + dma_addr % 2048) / 2048) slots until the unmap of that address (scatterlists:
# the unmap names the entries' physical addresses). Prints the peak and final occupancy.
# usage: mawk -v base=0x... -v end=0x... -f occupancy.awk trace.txt
function hex(s,   i, v, n) {
  sub(/^0x/, "", s)
  n = length(s)
  v = 0
  for (i = 1; i <= n; i++) v = v * 16 + H[substr(s, i, 1)]
  return v
}
function take(dma, size,   d, n) {
  d = hex(dma)
  if (d < B || d >= E) return 0
  n = int((size + d % 2048 + 2047) / 2048)
  used += n
  if (used > peak) peak = used
  return n
}
BEGIN {
  for (i = 0; i < 10; i++) H[i ""] = i
  H["a"] = 10; H["b"] = 11; H["c"] = 12; H["d"] = 13; H["e"] = 14; H["f"] = 15
  B = hex(base); E = hex(end)
}
/ dma_map_page: / {
  match($0, / dma_addr=[0-9a-f]+/); dma = substr($0, RSTART + 10, RLENGTH - 10)
  match($0, / size=[0-9]+/); size = substr($0, RSTART + 6, RLENGTH - 6) + 0
  n = take(dma, size)
  if (n) live[dma] = n
  next
}
/ dma_unmap_page: / {
  match($0, / dma_addr=[0-9a-f]+/); dma = substr($0, RSTART + 10, RLENGTH - 10)
  if (dma in live) { used -= live[dma]; delete live[dma] }
  next
}
/ dma_map_sg: / {
  match($0, / dma_addrs=\{[^}]*\}/); k = split(substr($0, RSTART + 12, RLENGTH - 13), da, ",")
  match($0, / sizes=\{[^}]*\}/); split(substr($0, RSTART + 8, RLENGTH - 9), sz, ",")
  match($0, / phys_addrs=\{[^}]*\}/); split(substr($0, RSTART + 13, RLENGTH - 14), ph, ",")
  for (i = 1; i <= k; i++) {
    n = take(da[i], hex(sz[i]))
    if (n) sg[ph[i]] = n
  }
  next
}
/ dma_unmap_sg: / {
  match($0, / phys_addrs=\{[^}]*\}/); k = split(substr($0, RSTART + 13, RLENGTH - 14), ph, ",")
  for (i = 1; i <= k; i++) if (ph[i] in sg) { used -= sg[ph[i]]; delete sg[ph[i]] }
  next
}
END { print "peak_slots", peak + 0; print "final_slots", used + 0 }
