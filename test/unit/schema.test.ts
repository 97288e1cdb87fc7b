/**
 * The JSON Schema contributed to the editor agrees with the scenario parser: it accepts every
 * shipped example and rejects what the parser rejects.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'jsonc-parser';
import { parseScenario, ScenarioError } from '../../src/scenario/format';

const ROOT = path.join(__dirname, '..', '..');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'media', 'schemas', 'scenario.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

test('the package contributes the schema for *.swiotlb.json', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: ['*.swiotlb.json'], url: './media/schemas/scenario.schema.json' }]);
});

test('every example is valid for the schema', () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.swiotlb.json'))) {
    const doc = parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
    assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`);
  }
});

test('the schema rejects what the parser rejects', () => {
  const good = {
    platform: 'x86',
    kernel: '6.1',
    devices: [{ id: 'nic', name: '0000:03:00.0', dma_mask: 32 }],
    workload: [{ call: 'dma_map_single', device: 'nic', id: 'a', phys: '0x100000000', size: 1522, dir: 'DMA_FROM_DEVICE' }],
  };
  assert.ok(validate(good));
  const bad = [
    { ...good, colour: 'red' },
    { ...good, platform: 'vax' },
    { ...good, devices: [{ name: 'x', dma_mask: '0xfffff000' }] },
    { ...good, workload: [{ call: 'dma_map_bogus' }] },
    { ...good, workload: [{ ...good.workload[0], size: 0 }] },
  ];
  for (const b of bad) {
    assert.equal(validate(b), false, JSON.stringify(b));
    assert.throws(() => parseScenario(JSON.stringify(b), 'b.json'), ScenarioError);
  }
});
