/**
 * A real 6.1.192 kernel on 6 GiB without swiotlb=force (kernel-6.1/c_natural_6g): PIIX IDE keeps a
 * 32-bit DMA mask, so scatterlist entries above 4 GiB bounce for the mask and those below map
 * directly. The map_sg probes give the first two entries of every list; the decision for each
 * must match whether the kernel fired swiotlb_bounced for it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DMA_BIT_MASK, pciDefaults } from '../../src/model/dma/device';
import { DmaEngine } from '../../src/model/dma/engine';
import { platformById } from '../../src/model/dma/platform';
import { resolveProfile } from '../../src/model/profiles';
import { Reason } from '../../src/model/reasons';

interface Sg {
  nents: number;
  dir: number;
  entries: { phys: string; size: number }[];
  bounced: { dev_addr: string; size: number }[];
}

const sgs: Sg[] = gunzipSync(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'kernel-6.1', 'c_natural_6g.map_sg.jsonl.gz')))
  .toString('utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));

test('PIIX on a 6 GiB machine: above 4 GiB bounces for the mask, below maps directly', () => {
  const engine = new DmaEngine({
    profile: resolveProfile('6.1'),
    platform: platformById('x86') as NonNullable<ReturnType<typeof platformById>>,
    pool: { start: 0xbbda5000, nslabs: 32768, nareas: 2, forceBounce: false },
  });
  const piix = { ...pciDefaults('0000:00:01.1'), driver: 'ata_piix', dmaMask: DMA_BIT_MASK(32), segBoundaryBits: 16 };
  let checked = 0;
  let bounced = 0;
  let direct = 0;
  for (const sg of sgs) {
    for (const e of sg.entries) {
      const phys = Number.parseInt(e.phys, 16);
      const d = engine.map({ call: 'dma_map_sg', dev: piix, cpu: 0, phys, size: e.size, dir: sg.dir });
      const kernelBounced = sg.bounced.some((b) => Number.parseInt(b.dev_addr, 16) === phys && b.size === e.size);
      assert.equal(d.result, kernelBounced ? 'bounced' : 'direct', `${e.phys}+${e.size}`);
      if (kernelBounced) {
        assert.equal(d.reasons, Reason.BeyondDmaMask);
        bounced++;
        engine.unmap({ call: 'dma_unmap_sg', dev: piix, cpu: 0, dma: d.dma as number, size: e.size, dir: sg.dir });
      } else direct++;
      checked++;
    }
  }
  assert.equal(checked, 193, 'entries whose page the probe recorded (not chain links)');
  assert.ok(bounced > 0 && direct > 0, `${bounced} bounced, ${direct} direct`);
  // the trace's totals over every entry: 1625 bounced, 371 direct
  assert.equal(
    sgs.reduce((n, s) => n + s.bounced.length, 0),
    1625,
  );
  assert.equal(sgs.reduce((n, s) => n + s.nents, 0) - 1625, 371);
});
