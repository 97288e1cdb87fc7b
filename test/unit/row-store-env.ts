// Imported first by row-store.test.ts: 64-row chunks, so a small fixture crosses many chunk
// boundaries and spills most of them (the event table reads these when it loads).
process.env.SWIOTLB_LENS_CHUNK_BITS = '6';
