/**
 * The C parser: web-tree-sitter with the tree-sitter-c grammar, both WebAssembly, loaded from
 * files next to the bundle (dist/) or, when running from source, from node_modules. Nothing is
 * fetched: the extension and the CLI work offline.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';

export const RUNTIME_WASM = 'web-tree-sitter.wasm';
export const C_WASM = 'tree-sitter-c.wasm';

export interface ParserPaths {
  /** Folder holding both .wasm files (the bundle's dist/). */
  readonly wasmDir?: string;
}

let ready: Promise<Language> | undefined;
let language: Language | undefined;
let shared: Parser | undefined;

/** Where a .wasm file is: next to this code (bundled), else in its npm package (tests, tsx). */
function locate(name: string, dir: string | undefined): string {
  if (dir && existsSync(join(dir, name))) return join(dir, name);
  if (typeof __dirname === 'string' && existsSync(join(__dirname, name))) return join(__dirname, name);
  const req = createRequire(typeof __filename === 'string' ? __filename : join(process.cwd(), 'x.js'));
  return name === C_WASM ? req.resolve('tree-sitter-c/tree-sitter-c.wasm') : req.resolve('web-tree-sitter/web-tree-sitter.wasm');
}

/** Loads the runtime and the C grammar once; later calls share the same promise. */
export function loadCParser(paths: ParserPaths = {}): Promise<Language> {
  ready ??= (async () => {
    const runtime = locate(RUNTIME_WASM, paths.wasmDir);
    await Parser.init({ locateFile: () => runtime });
    const lang = await Language.load(locate(C_WASM, paths.wasmDir));
    language = lang;
    return lang;
  })();
  ready.catch(() => {
    ready = undefined;
  });
  return ready;
}

export class ParseTimeout extends Error {}

/**
 * Parses C text. The parser must have been loaded (loadCParser). A parse that runs longer than
 * `timeoutMs` is abandoned (ParseTimeout): huge generated files must not stall the editor.
 */
export function parseC(text: string, timeoutMs = 10_000): Tree {
  if (!language) throw new Error('the C parser is not loaded (call loadCParser first)');
  if (!shared) {
    shared = new Parser();
    shared.setLanguage(language);
  }
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  const tree = shared.parse(text, null, {
    progressCallback: (() => {
      if (Date.now() > deadline) timedOut = true;
      return timedOut;
    }) as unknown as () => void,
  });
  if (!tree || timedOut) {
    tree?.delete();
    // the parser keeps its state after a cancelled parse: start the next one afresh
    shared.reset();
    throw new ParseTimeout(`parsing took longer than ${Math.round(timeoutMs / 1000)} s`);
  }
  return tree;
}
