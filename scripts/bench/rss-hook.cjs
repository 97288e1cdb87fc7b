// Loaded with `node --require` by the ingest benchmark: writes the process's peak RSS (bytes)
// to the file named by SWIOTLB_BENCH_RSS when it exits. Not part of the product.
const fs = require('node:fs');
process.on('exit', () => {
  const f = process.env.SWIOTLB_BENCH_RSS;
  if (f) fs.writeFileSync(f, String(process.resourceUsage().maxRSS * 1024));
});
