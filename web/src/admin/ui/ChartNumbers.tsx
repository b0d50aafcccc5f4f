import type { ReactNode } from 'react';

/** One column of a chart's table: its heading, whether it holds numbers (right-aligned), and its cell. */
export interface ChartColumn<Row> {
  label: string;
  numeric?: boolean;
  cell: (row: Row) => ReactNode;
}

/**
 * The "Show the numbers" table under a chart: the same data as a real table (column headings, the
 * first cell of each row as its row heading) for screen readers and anyone who prefers numbers, folded
 * away until asked for.
 */
export function ChartNumbers<Row>({ columns, rows, rowKey }: { columns: readonly ChartColumn<Row>[]; rows: readonly Row[]; rowKey: (row: Row) => string }) {
  return (
    <details>
      <summary>Show the numbers</summary>
      <div className="table-wrap table-wrap--short">
        <table>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.label} scope="col" className={column.numeric ? 'num' : undefined}>
                  {column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={rowKey(row)}>
                {columns.map((column, index) =>
                  index === 0 ? (
                    <th key={column.label} scope="row" className={column.numeric ? 'num' : undefined}>
                      {column.cell(row)}
                    </th>
                  ) : (
                    <td key={column.label} className={column.numeric ? 'num' : undefined}>
                      {column.cell(row)}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
