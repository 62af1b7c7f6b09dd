// The Glue partition of one exported item: its partition values and the folder of its object.
import { type GlueTableInput, glueTableInput } from '#common/lake-tables';
import type { ExportItem } from '#common/model';
import { contractId, itemKey } from './keys.ts';

/** The shape of Glue's `PartitionInput` (BatchCreatePartition), limited to what these partitions set. */
export interface GluePartitionInput {
  /** In the order of the table's `PartitionKeys`: `contract`, then `window`. */
  Values: [string, string];
  StorageDescriptor: GlueTableInput['StorageDescriptor'];
}

/**
 * The partition that makes `item`'s object queryable in its dataset's table, `dataLocation` being the
 * export root (`s3://bucket/prefix`): the values are the `contract=` and `window=` folder names.
 */
export function gluePartitionInput(item: ExportItem, dataLocation: string): GluePartitionInput {
  const key = itemKey(item);
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  const { StorageDescriptor } = glueTableInput(item.dataset, dataLocation);
  return {
    Values: [contractId(item.contract), `${item.start}_${item.end}`],
    StorageDescriptor: { ...StorageDescriptor, Location: `${dataLocation.replace(/\/+$/, '')}/${folder}` },
  };
}
