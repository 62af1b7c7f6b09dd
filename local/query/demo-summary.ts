// The demo's last word: one small summary table from the export folder, and the command that made it.
import { formatTable } from './format.ts';
import { LocalLake } from './lake.ts';

export const DEMO_SUMMARY_SQL =
  'SELECT activityType, count(*) AS activities, count(DISTINCT seat_key) AS seats FROM activity GROUP BY 1 ORDER BY 2 DESC, 1';

/** The activities per type in the folder at `root`, headed by the `npm run query` line that prints it again. */
export async function demoSummary(root: string, dest: string): Promise<string> {
  const lake = await LocalLake.open(root);
  try {
    const destFlag = dest === './exports' ? '' : `--dest ${JSON.stringify(dest)} `;
    return [
      `Query your data (DuckDB): npm run query -- ${destFlag}"${DEMO_SUMMARY_SQL}"`,
      formatTable(await lake.query(DEMO_SUMMARY_SQL)),
    ].join('\n');
  } finally {
    lake.close();
  }
}
