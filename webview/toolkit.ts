/**
 * The only module that touches @vscode/webview-ui-toolkit (archived upstream, still working):
 * replacing the toolkit means rewriting this file, not the views.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDivider,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeDataGrid(),
    vsCodeDataGridRow(),
    vsCodeDataGridCell(),
    vsCodeDivider(),
  );
  registered = true;
}

export function badge(text: string): HTMLElement {
  const b = document.createElement('vscode-badge');
  b.textContent = text;
  return b;
}

export function button(label: string, onClick: () => void, appearance: 'primary' | 'secondary' | 'icon' = 'secondary'): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('appearance', appearance);
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export function divider(): HTMLElement {
  return document.createElement('vscode-divider');
}

export interface GridColumn<T> {
  readonly title: string;
  readonly value: (row: T) => string;
  readonly width?: string;
}

/**
 * A data grid built cell by cell with textContent, so every string (device names, messages
 * from trace files) stays text and never becomes markup.
 */
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
      cell.textContent = c.value(r);
      row.appendChild(cell);
    });
    if (onRowClick) {
      row.classList.add('clickable');
      row.addEventListener('click', () => onRowClick(r));
      row.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Enter') onRowClick(r);
      });
    }
    grid.appendChild(row);
  }
  return grid;
}
