import { describe, expect, it } from 'vitest';
import { glueTableInput } from '#common/lake-tables';
import { DATASETS } from '#common/model';
import { itemKey } from '#storage/keys';
import { gluePartitionInput } from '#storage/lake-partitions';

describe('gluePartitionInput', () => {
  it.each(DATASETS)(
    '%s: the values are the folder names, the location the folder of the object',
    (dataset) => {
      const item = { contract: 'urn:li:salesContract:77', dataset, start: '2026-10-01', end: '2026-10-04' };
      const partition = gluePartitionInput(item, 's3://bucket/team/daily/');
      const table = glueTableInput(dataset, 's3://bucket/team/daily');
      expect(table.PartitionKeys.map((k) => k.Name)).toEqual(['contract', 'window']);
      expect(partition.Values).toEqual(['77', '2026-10-01_2026-10-04']);
      expect(partition.StorageDescriptor.Location).toBe(
        `s3://bucket/team/daily/${itemKey(item).replace(/[^/]+$/, '')}`,
      );
      expect(partition.StorageDescriptor.Location.startsWith(table.StorageDescriptor.Location)).toBe(true);
      expect(partition.StorageDescriptor.Location).toBe(
        `${table.StorageDescriptor.Location}contract=77/window=2026-10-01_2026-10-04/`,
      );
      expect({ ...partition.StorageDescriptor, Location: '' }).toEqual({
        ...table.StorageDescriptor,
        Location: '',
      });
    },
  );
});
