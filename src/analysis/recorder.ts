/**
 * The one sink every input adapter records its events through: each event is counted in the
 * books (all of them) and kept as a row of the event table while rows last (the panel shows at
 * most swiotlbLens.maxRows). The CLI and the panel read the same books.
 */
import { Books } from './books';
import type { EventInit } from './columns';
import { EventTable } from './eventTable';

export interface RecorderOptions {
  /** Where rows go; without one the names are kept and no row. */
  readonly table?: EventTable;
  /** Most rows kept (default: every event when a table is given, none otherwise). */
  readonly rowLimit?: number;
  /** A group key per event for the books' group tallies. */
  readonly groupOf?: (e: EventInit) => number | undefined;
}

export class Recorder {
  readonly books: Books;
  readonly table: EventTable;
  private readonly rowLimit: number;
  /** Events counted but not kept as rows. */
  rowsDropped = 0;

  constructor(opts: RecorderOptions = {}) {
    this.table = opts.table ?? new EventTable();
    this.rowLimit = opts.rowLimit ?? (opts.table ? Number.POSITIVE_INFINITY : 0);
    this.books = new Books(opts.groupOf);
  }

  /** Counts an event and keeps it as a row while rows last: its row, or -1. */
  add(e: EventInit): number {
    const t = this.table;
    const device = typeof e.device === 'number' ? e.device : t.devices.intern(e.device);
    let row = -1;
    if (t.length < this.rowLimit) row = t.push(e);
    else this.rowsDropped++;
    const file = typeof e.file === 'number' ? (t.files.values[e.file] ?? '') : (e.file ?? '');
    this.books.record(e, device, row, file);
    return row;
  }

  /** Links a map's row and its unmap's (when both were kept). */
  pair(mapRow: number, row: number): void {
    if (mapRow >= 0 && row >= 0) this.table.set('pair', mapRow, row);
  }
}
