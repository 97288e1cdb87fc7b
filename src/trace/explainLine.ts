/**
 * "Explain this log line": what a swiotlb kernel message means, for a line (or a few lines: a
 * "buffer is full" message may wrap) a user selected. Pure; the extension shows the answer.
 */
import { nrSlots } from '../model/constants';
import { explainFull, KernelLogParser, type LogMessage } from './klog';

export interface LineExplanation {
  /** 1-based line, within the given lines, of the message explained. */
  readonly line: number;
  readonly kind: LogMessage['kind'];
  readonly device: string | null;
  /** One sentence naming the message. */
  readonly title: string;
  readonly text: string;
  /** Failure cause code when the message reports a failed mapping. */
  readonly cause: string | null;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** explainFull's causes as the failure codes of the views. */
const FULL_CAUSE: Record<ReturnType<typeof explainFull>['cause'], string | null> = {
  'too-big': 'too-big',
  'no-pool': 'no-swiotlb',
  exhausted: 'pool-full',
  fragmented: 'fragmented',
  alignment: 'fragmented',
  unknown: null,
};

/** Explains the first swiotlb message among `lines`; null when none is one. */
export function explainLogLines(lines: readonly string[], pool?: { nslabs: number }): LineExplanation | null {
  const parser = new KernelLogParser();
  const msgs: LogMessage[] = [];
  lines.forEach((l, i) => {
    const m = parser.parse(l, i + 1);
    if (m) msgs.push(m);
  });
  const msg = msgs.find((m) => m.kind !== 'suppressed') ?? msgs[0];
  if (!msg) return null;
  const device = msg.device ?? null;
  const who = device ? `${msg.driver ? `${msg.driver} ` : ''}${device}` : 'a device';
  const base = { line: msg.line, kind: msg.kind, device };
  switch (msg.kind) {
    case 'full': {
      const overflow = msgs.find((m) => m.kind === 'overflow');
      const e = explainFull(msg, pool, overflow);
      return {
        ...base,
        title: `${who} asked for a ${msg.size} byte bounce buffer (${e.slots} slot${e.slots === 1 ? '' : 's'}) and the swiotlb found no room`,
        text: e.text,
        cause: FULL_CAUSE[e.cause],
      };
    }
    case 'out-of-space': {
      const slots = nrSlots(msg.size ?? 0);
      return {
        ...base,
        title: `${who} could not get ${msg.size} bytes of bounce buffer (an older kernel's "buffer is full")`,
        text:
          (msg.size ?? 0) > 262144
            ? `${msg.size} bytes is above the 256 KiB ceiling (128 slots): no pool size can satisfy it.`
            : `${slots} contiguous slots were not found: the pool was exhausted or fragmented (this kernel's message does not say how full it was). Try a bigger pool (swiotlb=) and check that mappings are unmapped.`,
        cause: (msg.size ?? 0) > 262144 ? 'too-big' : null,
      };
    }
    case 'overflow':
    case 'sync-overflow': {
      const mask = msg.mask !== undefined ? hex(msg.mask) : 'its mask';
      const limit = msg.busLimit ? ` (bus limit ${hex(msg.busLimit)})` : '';
      if (msg.overflowOf === 'swiotlb')
        return {
          ...base,
          title: `the bounce buffer of ${who} is itself beyond the device's DMA mask ${mask}${limit}`,
          text: 'The swiotlb pool sits above what the device can address, so bouncing cannot help: the pool must be placed lower (it is allocated low at boot; a late or extra pool may not be), or the device needs a wider mask or an IOMMU.',
          cause: 'bounce-beyond-mask',
        };
      return {
        ...base,
        title: `${who} mapped ${msg.addr !== undefined ? hex(msg.addr) : 'a buffer'}${msg.size !== undefined ? ` (${msg.size} bytes)` : ''} beyond its DMA mask ${mask}${limit}`,
        text: "The buffer is out of the device's reach and there is no swiotlb pool to bounce through (swiotlb=noforce, no pool was set up, or the mapping bypassed it): the mapping fails with DMA_MAPPING_ERROR. Set up a pool (the default on x86 with memory above 4 GiB), widen the mask, or use an IOMMU.",
        cause: 'no-swiotlb',
      };
    }
    case 'no-pool':
      return {
        ...base,
        title: 'no swiotlb pool',
        text: 'The kernel has no bounce buffer pool: every mapping that needs to bounce fails.',
        cause: 'no-swiotlb',
      };
    case 'mapped':
      return {
        ...base,
        title: `the swiotlb pool${msg.base !== undefined ? ` at ${hex(msg.base)}` : ''}${msg.nslabs ? `: ${msg.nslabs} slots (${(msg.nslabs * 2048) / 1048576} MiB)` : ''}`,
        text: 'Printed once at boot: where the default bounce pool lives. Bounce buffers are 2 KiB slots in it, in 128-slot segments.',
        cause: null,
      };
    case 'suppressed':
      return {
        ...base,
        title: `${msg.value ?? 'some'} similar messages were suppressed`,
        text: 'The kernel rate-limits these messages (and NO_WARN mappings print none): the log under-counts failures. A trace of the swiotlb events counts them all.',
        cause: null,
      };
    default:
      return { ...base, title: `a swiotlb ${msg.kind} message`, text: msg.text, cause: null };
  }
}
