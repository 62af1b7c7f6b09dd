// The product's copy as one Lambda invocation would run it: bundled, one export from a URL into S3 or a folder.
import { logger } from '#common/powertools';
import { parseSettings } from '#common/settings';
import type { LinkedInApi } from '#linkedin/api';
import { FolderStore } from '#local/folder-store';
import { copyExportToStore } from '#steps/copy';
import { createS3Client, S3ObjectStore } from '#storage/s3-store';

/**
 * `node product.mjs <url> <rows> s3 <endpoint> <bucket> <key>` or `… folder <dir> <key>`: copies the
 * activity export at `url` (LinkedIn's rowCount = `rows`) with `copyExportToStore`, prints the result.
 */
const [url, rows, kind, ...where] = process.argv.slice(2);
if (!url || !rows || (kind !== 's3' && kind !== 'folder'))
  throw new Error('usage: see bench/copy/product.ts');
logger.setLogLevel('SILENT');
const linkedin: LinkedInApi = {
  listContracts: async () => [],
  createExportJob: async () => ({ id: 1, status: 'ENQUEUED' }),
  getExportJob: async () => ({
    id: 1,
    status: 'COMPLETED',
    downloadUrl: `${url}?signature=bench`,
    expireAt: Date.now() + 3_600_000,
    rowCount: Number(rows),
  }),
};
const [a = '', b = '', c = ''] = where;
const store =
  kind === 's3'
    ? new S3ObjectStore({
        client: createS3Client({
          endpoint: a,
          region: 'us-east-1',
          credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        }),
        bucket: b,
      })
    : new FolderStore(a);
const result = await copyExportToStore(
  {
    item: { contract: 'urn:li:salesContract:1', dataset: 'activity', start: '2026-10-01', end: '2026-10-02' },
    jobId: 1,
    key: kind === 's3' ? c : b,
  },
  {
    linkedin,
    store,
    settings: parseSettings({ allowedDownloadHosts: [new URL(url).host] }),
    now: () => new Date(),
  },
);
console.log(JSON.stringify(result));
