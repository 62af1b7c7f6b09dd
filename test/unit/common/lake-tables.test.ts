import { describe, expect, it } from 'vitest';
import {
  csvHeader,
  EXPORT_SCHEMAS,
  formatExportDate,
  formatExportTimestamp,
  PARTITION_KEYS,
} from '#common/export-schemas';
import {
  decodePrestoView,
  glueTableInput,
  glueViewInput,
  storageType,
  viewColumns,
  viewQuery,
  viewSql,
} from '#common/lake-tables';
import { DATASETS } from '#common/model';
import { itemKey } from '#storage/keys';

describe('export schemas', () => {
  it.each(DATASETS)('%s: no column is named like a partition key (any case)', (dataset) => {
    const partitions = PARTITION_KEYS.map((p) => p.name.toLowerCase());
    expect(csvHeader(dataset).filter((c) => partitions.includes(c.toLowerCase()))).toEqual([]);
  });

  it.each(DATASETS)(
    '%s: the row key and composite keys name real columns; column names unique',
    (dataset) => {
      const schema = EXPORT_SCHEMAS[dataset];
      const names = csvHeader(dataset);
      expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
      expect(schema.rowKey.every((k) => names.includes(k))).toBe(true);
      expect(
        Object.values(schema.keys)
          .flat()
          .every((k) => names.includes(k)),
      ).toBe(true);
    },
  );

  it.each(DATASETS)('%s: every time and day column carries its format', (dataset) => {
    for (const c of EXPORT_SCHEMAS[dataset].columns) {
      expect(c.type === 'timestamp' || c.type === 'date').toBe(c.format !== undefined);
    }
  });

  it('activity is LinkedIn’s documented file; memberIdentityKey is the one optional column', () => {
    const activity = EXPORT_SCHEMAS.activity.columns;
    expect(activity.map((c) => c.name)).toEqual([
      'activityId',
      'activityType',
      'createdAt',
      'seatId',
      'memberIdentityKey',
    ]);
    expect(activity.every((c) => c.source === 'linkedin')).toBe(true);
    expect(activity.filter((c) => c.nullable).map((c) => c.name)).toEqual(['memberIdentityKey']);
    expect(activity.find((c) => c.name === 'createdAt')?.format).toBe('MM-DD-YYYY HH:MM:SS');
  });

  it('formats times month first, in UTC, as LinkedIn documents', () => {
    const ms = Date.UTC(2026, 10, 1, 7, 5, 9); // 1 November 2026
    expect(formatExportTimestamp(ms)).toBe('11-01-2026 07:05:09');
    expect(formatExportDate(ms)).toBe('11-01-2026');
  });
});

describe('glueTableInput', () => {
  it('is an external CSV table over the dataset’s prefix, partitioned like the folders', () => {
    const input = glueTableInput('activity', 's3://bucket/team/daily/');
    expect(input).toMatchObject({
      Name: 'activity_csv',
      TableType: 'EXTERNAL_TABLE',
      Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
      PartitionKeys: [
        { Name: 'contract', Type: 'string' },
        { Name: 'window', Type: 'string' },
      ],
      StorageDescriptor: {
        Location: 's3://bucket/team/daily/sales-navigator/activity/',
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde' },
      },
    });
    expect(input.StorageDescriptor.Columns).toEqual([
      expect.objectContaining({ Name: 'activityid', Type: 'string' }),
      expect.objectContaining({ Name: 'activitytype', Type: 'string' }),
      expect.objectContaining({ Name: 'createdat', Type: 'string' }),
      expect.objectContaining({ Name: 'seatid', Type: 'bigint' }),
      expect.objectContaining({ Name: 'memberidentitykey', Type: 'string' }),
    ]);
  });

  it.each(DATASETS)('%s: the table location is the folder above every item key of the dataset', (dataset) => {
    const location = glueTableInput(dataset, 's3://b/p').StorageDescriptor.Location;
    const key = itemKey({
      contract: 'urn:li:salesContract:9',
      dataset,
      start: '2026-01-01',
      end: '2026-01-02',
    });
    expect(`s3://b/p/${key}`.startsWith(location)).toBe(true);
    expect(`s3://b/p/${key}`.slice(location.length)).toMatch(/^contract=9\/window=2026-01-01_2026-01-02\//);
  });

  it.each(DATASETS)(
    '%s: times, days and optional numbers are strings (OpenCSVSerDe cannot parse them)',
    (dataset) => {
      const columns = glueTableInput(dataset, 's3://b').StorageDescriptor.Columns;
      EXPORT_SCHEMAS[dataset].columns.forEach((c, i) => {
        expect(columns[i]?.Type).toBe(storageType(c));
        if (c.type === 'timestamp' || c.type === 'date' || c.nullable)
          expect(columns[i]?.Type).toBe('string');
        expect((columns[i]?.Comment ?? '').length).toBeLessThanOrEqual(255); // Glue's limit
      });
      expect(columns.map((c) => c.Name)).toEqual(columns.map((c) => c.Name.toLowerCase()));
    },
  );
});

describe('viewSql', () => {
  it.each(DATASETS)(
    '%s: window is only ever quoted, and the view exposes window_start/window_end',
    (dataset) => {
      for (const dialect of ['duckdb', 'athena'] as const) {
        const sql = viewSql(dataset, dialect);
        expect(sql.replaceAll('"window"', '')).not.toMatch(/\bwindow\b/i);
        expect(sql).toContain('AS window_start');
        expect(sql).toContain('AS window_end');
        expect(sql).toContain(`FROM ${EXPORT_SCHEMAS[dataset].table}`);
      }
      expect(viewColumns(dataset).map((c) => c.name)).not.toContain('window');
    },
  );

  it('parses createdAt with its explicit month-first format in each dialect', () => {
    expect(viewSql('activity', 'duckdb')).toContain(`strptime("createdAt", '%m-%d-%Y %H:%M:%S')`);
    expect(viewSql('activity', 'athena')).toContain(`date_parse("createdat", '%m-%d-%Y %H:%i:%s')`);
    expect(viewSql('seat', 'athena')).toContain(`CAST(date_parse("reportdate", '%m-%d-%Y') AS DATE)`);
  });

  it('de-duplicates on the contract and the row key, keeping the latest window', () => {
    expect(viewSql('activity', 'duckdb')).toContain(
      'row_number() OVER (PARTITION BY "contract", "activityId" ORDER BY "window" DESC) AS copy_rank',
    );
    expect(viewSql('activity', 'duckdb')).toContain('WHERE copy_rank = 1');
  });
});

describe('glueViewInput (the Athena view as a Glue table)', () => {
  it.each(DATASETS)(
    '%s: a VIRTUAL_VIEW whose Presto view JSON holds the Athena query and its columns',
    (dataset) => {
      const input = glueViewInput(dataset, 'lake_db');
      expect(input).toMatchObject({
        Name: EXPORT_SCHEMAS[dataset].view,
        TableType: 'VIRTUAL_VIEW',
        Parameters: { presto_view: 'true', comment: 'Presto View' },
        PartitionKeys: [],
        ViewExpandedText: '/* Presto View */',
      });
      expect(input.ViewOriginalText).toMatch(/^\/\* Presto View: [A-Za-z0-9+/]+=*\s\*\/$/);
      const view = decodePrestoView(input.ViewOriginalText);
      expect(Object.keys(view)).toEqual(['originalSql', 'catalog', 'schema', 'columns']);
      expect(view.catalog).toBe('awsdatacatalog');
      expect(view.schema).toBe('lake_db');
      // The query alone (Athena stores no CREATE VIEW), the same one `viewSql` creates.
      expect(view.originalSql).toBe(viewQuery(dataset, 'athena'));
      expect(view.originalSql).not.toMatch(/\bCREATE\b/i);
      expect(viewSql(dataset, 'athena')).toBe(
        `CREATE OR REPLACE VIEW ${EXPORT_SCHEMAS[dataset].view} AS\n${view.originalSql}`,
      );
    },
  );

  it.each(DATASETS)(
    '%s: the declared columns are the ones the query selects, in order, in both type systems',
    (dataset) => {
      const input = glueViewInput(dataset, 'lake_db');
      const view = decodePrestoView(input.ViewOriginalText);
      const selected = /^SELECT (.*)$/m
        .exec(view.originalSql)?.[1]
        ?.split(', ')
        .map((c) => c.replaceAll('"', ''));
      expect(view.columns.map((c) => c.name)).toEqual(selected);
      expect(view.columns.map((c) => c.name)).toEqual(viewColumns(dataset).map((c) => c.name.toLowerCase()));
      expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(view.columns.map((c) => c.name));
      const trino = {
        VARCHAR: 'varchar',
        BIGINT: 'bigint',
        DOUBLE: 'double',
        TIMESTAMP: 'timestamp',
        DATE: 'date',
      };
      const hive = {
        VARCHAR: 'string',
        BIGINT: 'bigint',
        DOUBLE: 'double',
        TIMESTAMP: 'timestamp',
        DATE: 'date',
      };
      expect(view.columns.map((c) => c.type)).toEqual(viewColumns(dataset).map((c) => trino[c.type]));
      expect(input.StorageDescriptor.Columns.map((c) => c.Type)).toEqual(
        viewColumns(dataset).map((c) => hive[c.type]),
      );
      expect(input.StorageDescriptor.Columns.every((c) => c.Comment.length <= 255)).toBe(true);
    },
  );

  it('types createdAt as a timestamp and the window days as dates', () => {
    const columns = decodePrestoView(glueViewInput('activity', 'db').ViewOriginalText).columns;
    expect(columns.find((c) => c.name === 'createdat')?.type).toBe('timestamp');
    expect(columns.filter((c) => c.name.startsWith('window_'))).toEqual([
      { name: 'window_start', type: 'date' },
      { name: 'window_end', type: 'date' },
    ]);
  });

  it('rejects a view text that is not a Presto view', () => {
    expect(() => decodePrestoView('SELECT 1')).toThrow('not a Presto view text');
  });
});
