// The column dictionary of the views as Markdown, generated from the export schemas (README "Query your data").
import { EXPORT_SCHEMAS } from '#common/export-schemas';
import { viewColumns } from '#common/lake-tables';
import { DATASETS } from '#common/model';

/** One table per view: column, SQL type, meaning, and whether LinkedIn documents the column. */
export function columnDictionary(): string {
  return DATASETS.map((dataset) => {
    const schema = EXPORT_SCHEMAS[dataset];
    const fromFile = new Map(schema.columns.map((c) => [c.name, c]));
    const rows = viewColumns(dataset).map((c) => {
      const column = fromFile.get(c.name);
      const source = column ? (column.source === 'linkedin' ? 'LinkedIn' : 'assumed') : 'added';
      const type = column?.nullable ? `${c.type} (nullable)` : c.type;
      return `| \`${c.name}\` | ${type} | ${c.description} | ${source} |`;
    });
    return [
      `**\`${schema.view}\`** (from \`${dataset}\` files, raw table \`${schema.table}\`): ${schema.description}`,
      '',
      '| Column | Type | Meaning | Source |',
      '| --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
  }).join('\n\n');
}
