/**
 * Reading a JSON (with comments) document while keeping where every value came from, so each
 * complaint names its JSON path and its line and column.
 */
import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';

export interface Problem {
  /** "$.devices[1].dma_mask" */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  /** 1-based line and column of an offset. */
  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] as number) + 1 };
  }
}

/** A value in the document with its path; accessors record problems instead of throwing. */
export class JsonValue {
  constructor(
    readonly node: Node,
    readonly path: string,
    private readonly doc: JsonDoc,
  ) {}

  get type(): Node['type'] {
    return this.node.type;
  }

  get value(): unknown {
    return this.node.value;
  }

  get line(): number {
    return this.doc.lines.at(this.node.offset).line;
  }

  problem(message: string): void {
    this.doc.report(this.node.offset, this.path, message);
  }

  /** The properties of an object, in order (with the key's node for unknown-key complaints). */
  entries(): { key: string; keyNode: Node; value: JsonValue }[] {
    if (this.node.type !== 'object') return [];
    const out: { key: string; keyNode: Node; value: JsonValue }[] = [];
    for (const p of this.node.children ?? []) {
      const [k, v] = p.children ?? [];
      if (!k || !v) continue;
      const key = String(k.value);
      out.push({
        key,
        keyNode: k,
        value: new JsonValue(v, `${this.path}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, this.doc),
      });
    }
    return out;
  }

  get(key: string): JsonValue | undefined {
    return this.entries().find((e) => e.key === key)?.value;
  }

  items(): JsonValue[] {
    if (this.node.type !== 'array') return [];
    return (this.node.children ?? []).map((c, i) => new JsonValue(c, `${this.path}[${i}]`, this.doc));
  }

  /** Complains about keys not in `allowed`. */
  onlyKeys(allowed: readonly string[], what: string): void {
    for (const e of this.entries()) {
      if (!allowed.includes(e.key)) {
        this.doc.report(e.keyNode.offset, e.value.path, `unknown key "${e.key}" in ${what} (expected one of: ${allowed.join(', ')})`);
      }
    }
  }

  expectObject(what: string): boolean {
    if (this.node.type === 'object') return true;
    this.problem(`${what} must be an object`);
    return false;
  }
}

export class JsonDoc {
  readonly problems: Problem[] = [];
  readonly lines: LineIndex;
  readonly root: JsonValue | undefined;

  constructor(text: string) {
    this.lines = new LineIndex(text);
    const errors: ParseError[] = [];
    if (text.trim() === '') {
      this.root = undefined;
      this.report(0, '$', 'the document is empty');
      return;
    }
    const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
    for (const e of errors) this.report(e.offset, '$', `JSON syntax: ${printParseErrorCode(e.error)}`);
    this.root = tree ? new JsonValue(tree, '$', this) : undefined;
  }

  report(offset: number, path: string, message: string): void {
    const { line, column } = this.lines.at(offset);
    this.problems.push({ path, line, column, message });
  }
}
