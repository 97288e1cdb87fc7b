/** Colours for canvases, read from VS Code's theme variables (light, dark, high contrast). */

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export interface Theme {
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly grid: string;
  readonly accent: string;
  readonly band: string;
  readonly hiwater: string;
  readonly pool: string;
  readonly cursor: string;
  readonly selection: string;
  readonly free: string;
  readonly focus: string;
  readonly highContrast: boolean;
  /** Series / device colours. */
  readonly palette: readonly string[];
  /** Failure causes, in FAILURE_CAUSES order. */
  readonly failures: readonly string[];
}

export function readTheme(): Theme {
  const hc = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const fg = cssVar('--vscode-foreground', '#cccccc');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const yellow = cssVar('--vscode-charts-yellow', '#cca700');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const green = cssVar('--vscode-charts-green', '#89d185');
  const purple = cssVar('--vscode-charts-purple', '#b180d7');
  return {
    background: cssVar('--vscode-editor-background', '#1e1e1e'),
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground', '#999999'),
    grid: cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)'),
    accent: blue,
    band: blue,
    hiwater: orange,
    pool: cssVar('--vscode-editorLineNumber-foreground', '#858585'),
    cursor: cssVar('--vscode-editorCursor-foreground', fg),
    selection: cssVar('--vscode-editor-selectionBackground', 'rgba(38,79,120,0.6)'),
    free: cssVar('--vscode-editorWidget-background', 'rgba(128,128,128,0.15)'),
    focus: cssVar('--vscode-focusBorder', '#007fd4'),
    highContrast: hc,
    palette: [blue, green, purple, yellow, orange, red, '#4ec9b0', '#c586c0', '#9cdcfe', '#dcdcaa'],
    failures: [red, orange, yellow, purple, fg, red, purple],
  };
}
