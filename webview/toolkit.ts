/**
 * The only module that touches @vscode/webview-ui-toolkit (archived upstream, still working):
 * replacing the toolkit means rewriting this file, not the views. Every label is set with
 * textContent, so text from inputs never becomes markup.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDataGrid(),
    vsCodeDataGridRow(),
    vsCodeDataGridCell(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTextField(),
  );
  registered = true;
}

/**
 * A badge: a plain span styled like the toolkit's. The toolkit's badge template carries a bound
 * style attribute, which a strict CSP (no 'unsafe-inline' in style-src) refuses on every load.
 */
export function badge(text: string, title?: string): HTMLElement {
  const b = document.createElement('span');
  b.className = 'badge';
  b.textContent = text;
  if (title) b.title = title;
  return b;
}

export function button(
  label: string,
  onClick: () => void,
  appearance: 'primary' | 'secondary' | 'icon' = 'secondary',
  title?: string,
): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', appearance);
  b.textContent = label;
  if (title) {
    b.title = title;
    b.setAttribute('aria-label', title);
  }
  b.addEventListener('click', onClick);
  return b;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

export function progressRing(): HTMLElement {
  return document.createElement('vscode-progress-ring');
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

/** A dropdown; `onChange` gets the chosen value. */
export function dropdown(
  label: string,
  choices: readonly Choice[],
  value: string,
  onChange: (value: string) => void,
  /** 'below' for dropdowns inside tabs: the tab view clips a list that opens upwards. */
  position?: 'below' | 'above',
): HTMLElement {
  const d = document.createElement('vscode-dropdown') as HTMLElement & { value: string };
  if (position) d.setAttribute('position', position);
  d.setAttribute('aria-label', label);
  d.title = label;
  for (const c of choices) {
    const o = document.createElement('vscode-option') as HTMLElement & { value: string };
    o.setAttribute('value', c.value);
    o.textContent = c.label;
    d.appendChild(o);
  }
  d.setAttribute('value', value);
  d.addEventListener('change', () => onChange(d.value));
  return d;
}

/** Sets a dropdown's value from code. */
export function setDropdownValue(d: HTMLElement, value: string): void {
  (d as HTMLElement & { value: string }).value = value;
}

/** A text field; `onInput` on every change. */
export function textField(placeholder: string, onInput: (value: string) => void): HTMLElement & { value: string } {
  const t = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  t.setAttribute('placeholder', placeholder);
  t.setAttribute('aria-label', placeholder);
  t.addEventListener('input', () => onInput(t.value));
  return t;
}

export function setTextFieldValue(t: HTMLElement, value: string): void {
  (t as HTMLElement & { value: string }).value = value;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => onChange(c.checked));
  return c;
}

export interface Tab {
  readonly id: string;
  readonly label: string;
  readonly content: HTMLElement;
  /** A count shown next to the label. */
  readonly badge?: HTMLElement;
}

/** Tabs (toolkit panels); `onChange` gets the id of the tab shown. */
export function tabs(items: readonly Tab[], active: string, onChange: (id: string) => void): HTMLElement & { activeid: string } {
  const p = document.createElement('vscode-panels') as HTMLElement & { activeid: string };
  p.setAttribute('aria-label', 'Views');
  for (const t of items) {
    const tab = document.createElement('vscode-panel-tab');
    tab.id = `tab-${t.id}`;
    tab.textContent = t.label;
    if (t.badge) tab.appendChild(t.badge);
    p.appendChild(tab);
  }
  for (const t of items) {
    const view = document.createElement('vscode-panel-view');
    view.id = `view-${t.id}`;
    view.appendChild(t.content);
    p.appendChild(view);
  }
  p.setAttribute('activeid', `tab-${active}`);
  p.addEventListener('change', (e) => {
    // only the panels' own change (dropdowns inside bubble theirs too)
    if (e.target !== p) return;
    const id = (p.activeid ?? '').replace(/^tab-/, '');
    if (id) onChange(id);
  });
  return p;
}

export function setBadge(b: HTMLElement, text: string): void {
  b.textContent = text;
}

/** Enables or disables a toolkit control. */
export function setDisabled(c: HTMLElement, disabled: boolean): void {
  if (disabled) c.setAttribute('disabled', '');
  else c.removeAttribute('disabled');
}

export interface GridColumn<T> {
  readonly title: string;
  readonly value: (row: T) => string;
  readonly width?: string;
  /** A colour swatch before the text (a legend colour). */
  readonly color?: (row: T) => string | undefined;
}

/** A small data grid (summaries); the big per-call table is webview/table.ts. */
export function dataGrid<T>(columns: readonly GridColumn<T>[], rows: readonly T[], onRowClick?: (row: T) => void): HTMLElement {
  const grid = document.createElement('vscode-data-grid');
  grid.setAttribute('generate-header', 'none');
  grid.setAttribute('grid-template-columns', columns.map((c) => c.width ?? '1fr').join(' '));
  const header = document.createElement('vscode-data-grid-row');
  header.setAttribute('row-type', 'header');
  columns.forEach((c, i) => {
    const cell = document.createElement('vscode-data-grid-cell');
    cell.setAttribute('cell-type', 'columnheader');
    cell.setAttribute('grid-column', String(i + 1));
    cell.textContent = c.title;
    header.appendChild(cell);
  });
  grid.appendChild(header);
  for (const r of rows) {
    const row = document.createElement('vscode-data-grid-row');
    columns.forEach((c, i) => {
      const cell = document.createElement('vscode-data-grid-cell');
      cell.setAttribute('grid-column', String(i + 1));
      const color = c.color?.(r);
      if (color) {
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = color;
        cell.appendChild(sw);
      }
      cell.appendChild(document.createTextNode(c.value(r)));
      row.appendChild(cell);
    });
    if (onRowClick) {
      row.classList.add('clickable');
      row.addEventListener('click', () => onRowClick(r));
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') onRowClick(r);
      });
    }
    grid.appendChild(row);
  }
  return grid;
}
