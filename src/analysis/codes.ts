/**
 * Stable codes shared by every input and view: what an event is and how it ended (why it bounced
 * or failed is the model's Reason, model/reasons.ts). Codes are part of the JSON output and the
 * panel's filters: never renumber, only append.
 */

/** What happened (one row of the per-call table). */
export enum EventKind {
  /** A streaming map (dma_map_page/single/phys, one sg entry, swiotlb_tbl_map_single). */
  Map = 0,
  Unmap = 1,
  SyncForCpu = 2,
  SyncForDevice = 3,
  /** Coherent allocation (restricted pool, Xen exchange, dma_alloc_*). */
  Alloc = 4,
  Free = 5,
  /** swiotlb:swiotlb_bounced: a bounce was attempted (no outcome on its own). */
  BounceAttempt = 6,
  /** A kernel log message ("swiotlb buffer is full", overflow WARN, ...). */
  LogMessage = 7,
  /** tracing_mark_write and other markers. */
  Marker = 8,
  MapResource = 9,
}

export const EVENT_KIND_NAMES: Record<EventKind, string> = {
  [EventKind.Map]: 'map',
  [EventKind.Unmap]: 'unmap',
  [EventKind.SyncForCpu]: 'sync_for_cpu',
  [EventKind.SyncForDevice]: 'sync_for_device',
  [EventKind.Alloc]: 'alloc',
  [EventKind.Free]: 'free',
  [EventKind.BounceAttempt]: 'bounce_attempt',
  [EventKind.LogMessage]: 'log',
  [EventKind.Marker]: 'marker',
  [EventKind.MapResource]: 'map_resource',
};

/** How it ended. */
export enum Outcome {
  /** Not applicable or not known from the input. */
  None = 0,
  /** Mapped without bouncing. */
  Direct = 1,
  /** Mapped through a bounce buffer. */
  Bounced = 2,
  /** The mapping failed (DMA_MAPPING_ERROR). */
  Failed = 3,
  /** Bounce slots released. */
  Released = 4,
  /** A direct mapping unmapped (nothing released). */
  Unmapped = 5,
  /** Data copied (sync) or cache maintained. */
  Synced = 6,
  /** The kernel would never return (6.1 search livelock). */
  Hang = 7,
}

export const OUTCOME_NAMES: Record<Outcome, string> = {
  [Outcome.None]: '',
  [Outcome.Direct]: 'direct',
  [Outcome.Bounced]: 'bounced',
  [Outcome.Failed]: 'failed',
  [Outcome.Released]: 'released',
  [Outcome.Unmapped]: 'unmapped',
  [Outcome.Synced]: 'synced',
  [Outcome.Hang]: 'hang',
};
