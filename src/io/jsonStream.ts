/**
 * Writes one JSON object field by field, an array of it item by item, as
 * JSON.stringify(object, null, 1) would print the whole: a report with millions of entries never
 * exists as one object or one string.
 */
export class JsonObjectWriter {
  private written = 0;
  private items = -1;

  constructor(private readonly write: (s: string) => void) {
    write('{');
  }

  /** A field (skipped when undefined, as JSON.stringify does). */
  field(key: string, value: unknown): void {
    if (value === undefined) return;
    this.key(key);
    this.write(nested(value, 1));
  }

  /** Every field of an object, in order. */
  fieldsOf(o: Readonly<Record<string, unknown>>): void {
    for (const [k, v] of Object.entries(o)) this.field(k, v);
  }

  /** Fields in order; an array given as `items` is written item by item. */
  fields(list: Iterable<{ readonly key: string; readonly value?: unknown; readonly items?: Iterable<unknown> }>): void {
    for (const f of list) {
      if (f.items === undefined) {
        this.field(f.key, f.value);
        continue;
      }
      this.openArray(f.key);
      for (const x of f.items) this.item(x);
      this.closeArray();
    }
  }

  /** Opens an array field: then item() for each element, and closeArray(). */
  openArray(key: string): void {
    this.key(key);
    this.write('[');
    this.items = 0;
  }

  item(value: unknown): void {
    this.write(`${this.items++ ? ',' : ''}\n  ${nested(value ?? null, 2)}`);
  }

  closeArray(): void {
    this.write(this.items > 0 ? '\n ]' : ']');
    this.items = -1;
  }

  end(): void {
    this.write(this.written ? '\n}' : '}');
  }

  private key(key: string): void {
    this.write(`${this.written++ ? ',' : ''}\n ${JSON.stringify(key)}: `);
  }
}

/** JSON.stringify(value, null, 1) of a value printed `depth` levels in (strings hold no raw newline). */
function nested(value: unknown, depth: number): string {
  return (JSON.stringify(value, null, 1) as string).replaceAll('\n', `\n${' '.repeat(depth)}`);
}
