/**
 * Reading a JSON (with comments) document while keeping where every value came from, so each
 * complaint names its JSON path and its line and column.
 */
import { createScanner, type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { shortText } from '../protocol/escape';

/** Objects and arrays nest at most this deep: the parser recurses per level (a scenario needs about 10). */
export const MAX_JSON_DEPTH = 64;

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

interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: JsonValue;
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

  /** The value as the file writes it (a number past 2^53 keeps its digits), shortened to 60 characters. */
  get source(): string {
    const n = this.node;
    return shortText(this.doc.text.slice(n.offset, n.offset + Math.min(n.length, 61)), 60, n.length);
  }

  problem(message: string): void {
    this.doc.report(this.node.offset, this.path, message);
  }

  private entryList: Entry[] | undefined;
  private byKey: Map<string, Entry> | undefined;
  private itemList: JsonValue[] | undefined;

  /**
   * The properties of an object, in order (with the key's node for unknown-key complaints). A key
   * given twice counts once, with its last value (as JSON.parse does), and a warning says so.
   */
  entries(): readonly Entry[] {
    if (this.entryList) return this.entryList;
    const out: Entry[] = [];
    const byKey = new Map<string, Entry>();
    if (this.node.type === 'object') {
      for (const p of this.node.children ?? []) {
        const [k, v] = p.children ?? [];
        if (!k || !v) continue;
        const key = String(k.value);
        const e = {
          key,
          keyNode: k,
          value: new JsonValue(v, `${this.path}${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`, this.doc),
        };
        const earlier = byKey.get(key);
        if (earlier) {
          const at = this.doc.lines.at(earlier.keyNode.offset);
          this.doc.warn(
            k.offset,
            e.value.path,
            `duplicate key "${key}": this value is used, the one at line ${at.line} column ${at.column} is ignored`,
          );
          out[out.indexOf(earlier)] = e;
        } else out.push(e);
        byKey.set(key, e);
      }
    }
    this.entryList = out;
    this.byKey = byKey;
    return out;
  }

  get(key: string): JsonValue | undefined {
    this.entries();
    return this.byKey?.get(key)?.value;
  }

  items(): readonly JsonValue[] {
    if (this.node.type !== 'array') return [];
    this.itemList ??= (this.node.children ?? []).map((c, i) => new JsonValue(c, `${this.path}[${i}]`, this.doc));
    return this.itemList;
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
  /** What is read, but perhaps not as the author meant (duplicate keys). */
  readonly warnings: Problem[] = [];
  readonly lines: LineIndex;
  readonly root: JsonValue | undefined;

  constructor(readonly text: string) {
    this.lines = new LineIndex(text);
    const errors: ParseError[] = [];
    if (text.trim() === '') {
      this.root = undefined;
      this.report(0, '$', 'the document is empty');
      return;
    }
    const deep = tooDeepAt(text, MAX_JSON_DEPTH);
    if (deep >= 0) {
      this.root = undefined;
      this.report(deep, '$', `objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels here; a scenario needs far fewer`);
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

  warn(offset: number, path: string, message: string): void {
    const { line, column } = this.lines.at(offset);
    this.warnings.push({ path, line, column, message });
  }
}

/** Offset of the first "{" or "[" that opens level max + 1 (comments and strings skipped), or -1. */
function tooDeepAt(text: string, max: number): number {
  // jsonc-parser's SyntaxKind (a const enum, not importable as a value here)
  const OPEN_BRACE = 1;
  const CLOSE_BRACE = 2;
  const OPEN_BRACKET = 3;
  const CLOSE_BRACKET = 4;
  const EOF = 17;
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let t: number = scanner.scan(); t !== EOF; t = scanner.scan()) {
    if (t === OPEN_BRACE || t === OPEN_BRACKET) {
      if (++depth > max) return scanner.getTokenOffset();
    } else if ((t === CLOSE_BRACE || t === CLOSE_BRACKET) && depth > 0) depth--;
  }
  return -1;
}
