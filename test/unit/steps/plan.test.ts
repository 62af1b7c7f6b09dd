import { describe, expect, it } from 'vitest';
import { daysBetween } from '#common/days';
import {
  ConfigurationError,
  InvalidInputError,
  LinkedInResponseError,
  PlanTooLargeError,
} from '#common/errors';
import type { ItemRecord } from '#common/model';
import type { SettingsInput } from '#common/settings';
import { parseRunInput, planRun, resolveRange, splitRange } from '#steps/plan';
import type { Lane } from '#steps/state';
import { contract, FakeLinkedIn, fakeDeps } from '#test/support/fake-linkedin';

const A = 'urn:li:contract:A';
const B = 'urn:li:contract:B';
const NO_ACCESS = 'urn:li:contract:C';
const STARTED_AT = '2026-03-10T06:00:00.000Z';

/** Window lengths in days. */
const lengths = (windows: { start: string; end: string }[]) =>
  windows.map((w) => daysBetween(w.start, w.end));

function expectInvalid(fn: () => unknown, ...fragments: string[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  const { name, message } = thrown as Error;
  expect(name).toBe('InvalidInputError');
  for (const fragment of fragments) expect(message).toContain(fragment);
}

describe('parseRunInput', () => {
  it('accepts the scheduled {} (and a missing input) as the default window', () => {
    expect(parseRunInput({})).toEqual({});
    expect(parseRunInput(undefined)).toEqual({});
    expect(parseRunInput(null)).toEqual({});
  });

  it('accepts a full backfill input', () => {
    const input = {
      contracts: [A],
      datasets: ['seat', 'activityOutcome'],
      from: '2024-02-01',
      to: '2024-03-01',
      force: true,
    };
    expect(parseRunInput(input)).toEqual(input);
  });

  it.each([
    [
      'a date that does not exist',
      { from: '2026-02-30', to: '2026-03-02' },
      ['from: is not a real calendar date'],
    ],
    [
      'a date in another format',
      { from: '2026-01-01', to: '03/02/2026' },
      ['to: must be a date written YYYY-MM-DD'],
    ],
    ['from without to', { from: '2026-01-01' }, ['to: from and to must be given together']],
    ['to without from', { to: '2026-01-01' }, ['from: from and to must be given together']],
    [
      'from equal to to',
      { from: '2026-01-02', to: '2026-01-02' },
      ['to: must be after from (2026-01-02); to is exclusive'],
    ],
    ['from after to', { from: '2026-01-03', to: '2026-01-02' }, ['to: must be after from (2026-01-03)']],
    ['an unknown field', { form: '2026-01-01' }, ['Unrecognized key', '"form"']],
    [
      'a bad contract URN',
      { contracts: [A, 'urn:li:organization:1'] },
      [
        "contracts.1: must look like urn:li:contract:<id> (LinkedIn's form) or urn:li:salesContract:<id> (the seed spec's)",
      ],
    ],
    [
      'a contract id with a path separator',
      { contracts: ['urn:li:contract:a/b'] },
      ['contracts.0: must look like'],
    ],
    [
      'an unknown dataset',
      { datasets: ['seat', 'seats'] },
      ['datasets.1: Invalid option', '"activityOutcome"'],
    ],
    ['no contracts', { contracts: [] }, ['contracts: Too small']],
    ['no datasets', { datasets: [] }, ['datasets: Too small']],
    ['a non-boolean force', { force: 'yes' }, ['force: Invalid input: expected boolean']],
    ['an array', [], ['(input): Invalid input: expected object']],
  ])('rejects %s, naming the field and why', (_, input, fragments) => {
    expectInvalid(() => parseRunInput(input), 'invalid execution input: ', ...fragments);
  });

  it('blames only the malformed field, not the from/to order it cannot check', () => {
    let message = '';
    try {
      parseRunInput({ from: '2026-1-2', to: '2026-01-05' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('invalid execution input: from: must be a date written YYYY-MM-DD');
  });
});

describe('resolveRange', () => {
  it.each([
    // startedAt, lagDays, from, to
    ['2026-03-10T00:00:00.000Z', 0, '2026-03-09', '2026-03-10'],
    ['2026-03-09T23:59:59.999Z', 0, '2026-03-08', '2026-03-09'],
    ['2026-03-10T00:00:00.000Z', 1, '2026-03-08', '2026-03-09'],
    ['2026-03-09T23:59:59.999Z', 1, '2026-03-07', '2026-03-08'],
    ['2026-03-10T12:00:00.000Z', 3, '2026-03-06', '2026-03-07'],
    ['2026-01-01T00:00:30.000Z', 1, '2025-12-30', '2025-12-31'],
    ['2024-03-01T05:00:00.000Z', 0, '2024-02-29', '2024-03-01'],
    ['2024-03-02T05:00:00.000Z', 2, '2024-02-28', '2024-02-29'],
  ])('defaults at %s with lag %i to [%s, %s)', (startedAt, lag, from, to) => {
    expect(resolveRange({}, new Date(startedAt), lag)).toEqual({ from, to });
  });

  it('reaches back lookBackDays complete days before the lag', () => {
    const startedAt = new Date('2024-03-03T05:00:00.000Z');
    expect(resolveRange({}, startedAt, 1, 7)).toEqual({ from: '2024-02-24', to: '2024-03-02' }); // 29 Feb counted;
    expect(resolveRange({}, startedAt, 0, 3)).toEqual({ from: '2024-02-29', to: '2024-03-03' });
  });

  it('keeps an explicit range as given (lag does not apply), up to today exclusive', () => {
    const startedAt = new Date('2026-03-10T23:59:59.000Z');
    expect(resolveRange({ from: '2026-01-01', to: '2026-03-10' }, startedAt, 3)).toEqual({
      from: '2026-01-01',
      to: '2026-03-10',
    });
  });

  it('rejects a `to` after today: that day is not complete yet', () => {
    expectInvalid(
      () => resolveRange({ from: '2026-03-01', to: '2026-03-11' }, new Date('2026-03-10T23:59:59.999Z'), 1),
      'to: 2026-03-11 is after today (2026-03-10 UTC)',
    );
  });
});

describe('splitRange', () => {
  it('splits a year into 90-day windows and a remainder, day-aligned and contiguous', () => {
    const windows = splitRange('2025-01-01', '2026-01-01');

    expect(lengths(windows)).toEqual([90, 90, 90, 90, 5]);
    expect(windows).toEqual([
      { start: '2025-01-01', end: '2025-04-01' },
      { start: '2025-04-01', end: '2025-06-30' },
      { start: '2025-06-30', end: '2025-09-28' },
      { start: '2025-09-28', end: '2025-12-27' },
      { start: '2025-12-27', end: '2026-01-01' },
    ]);
  });

  it('keeps exactly 90 days as one window and splits 91 into 90 + 1', () => {
    expect(splitRange('2025-01-01', '2025-04-01')).toEqual([{ start: '2025-01-01', end: '2025-04-01' }]);
    expect(splitRange('2025-01-01', '2025-04-02')).toEqual([
      { start: '2025-01-01', end: '2025-04-01' },
      { start: '2025-04-01', end: '2025-04-02' },
    ]);
    expect(splitRange('2025-05-05', '2025-05-06')).toEqual([{ start: '2025-05-05', end: '2025-05-06' }]);
  });

  it('counts 29 February in leap years', () => {
    expect(lengths(splitRange('2024-01-01', '2025-01-01'))).toEqual([90, 90, 90, 90, 6]);
    expect(splitRange('2024-01-01', '2025-01-01')[0]).toEqual({ start: '2024-01-01', end: '2024-03-31' });
    // Feb–Apr is 90 days in a leap year, 89 otherwise: one window either way.
    expect(splitRange('2024-02-01', '2024-05-01')).toEqual([{ start: '2024-02-01', end: '2024-05-01' }]);
    expect(splitRange('2024-02-01', '2024-05-02')).toHaveLength(2);
    expect(splitRange('2023-02-01', '2023-05-02')).toHaveLength(1);
  });

  it('honours a smaller maximum', () => {
    expect(splitRange('2025-01-01', '2025-01-08', 3)).toEqual([
      { start: '2025-01-01', end: '2025-01-04' },
      { start: '2025-01-04', end: '2025-01-07' },
      { start: '2025-01-07', end: '2025-01-08' },
    ]);
  });
});

describe('planRun', () => {
  /** LinkedIn lists B before A: the plan must not depend on that order. */
  function setup(settings?: SettingsInput) {
    const linkedin = new FakeLinkedIn([contract('B'), contract('C', false), contract('A')]);
    return fakeDeps({ now: STARTED_AT, linkedin, ...(settings && { settings }) });
  }
  const event = (input: unknown) => ({ input, runId: 'run-1', startedAt: STARTED_AT });
  /** The lanes PlanRun stored for the ExportEach ItemReader (a JSON array). */
  const storedLanes = (deps: ReturnType<typeof setup>) =>
    deps.store.json<Lane[]>('manifests/run-1/lanes.json');

  it('plans the default window for every reportable contract and every dataset, and stores the plan', async () => {
    const deps = setup();

    const output = await planRun(event({}), deps);

    // The default look-back: the 7 complete days before the lag (1 day), in one window per lane.
    const window = { start: '2026-03-02', end: '2026-03-09' };
    const lane = (c: string, dataset: string) => ({ contract: c, dataset, windows: [window] });
    expect(output).toEqual({
      runId: 'run-1',
      force: false,
      lanesKey: 'manifests/run-1/lanes.json',
      lanes: 6,
      toExport: 6,
      planned: 6,
      skipped: 0,
    });
    // Consecutive lanes are different contracts.
    expect(storedLanes(deps)).toEqual([
      lane(A, 'seat'),
      lane(B, 'seat'),
      lane(A, 'activity'),
      lane(B, 'activity'),
      lane(A, 'activityOutcome'),
      lane(B, 'activityOutcome'),
    ]);
    expect(deps.store.json('manifests/run-1/plan.json')).toEqual({
      version: 1,
      runId: 'run-1',
      startedAt: STARTED_AT,
      window: { from: '2026-03-02', to: '2026-03-09' },
      contracts: [A, B],
      datasets: ['seat', 'activity', 'activityOutcome'],
      force: false,
      items: [A, B].flatMap((c) =>
        ['seat', 'activity', 'activityOutcome'].map((dataset) => ({ contract: c, dataset, ...window })),
      ),
      source: 'linkedin',
      apiHost: 'api.linkedin.com',
      coverage: [A, B].flatMap((c) =>
        ['seat', 'activity', 'activityOutcome'].map((dataset) => ({
          contract: c,
          dataset,
          days: 7,
          coveredDays: 0,
          exportDays: 7,
        })),
      ),
    });
    expect(deps.store.keys()).toEqual(['manifests/run-1/lanes.json', 'manifests/run-1/plan.json']);
  });

  it('plans a long range as lanes per contract × dataset with their windows in order', async () => {
    const deps = setup();

    const output = await planRun(
      event({ contracts: [B, A, B], datasets: ['activity', 'seat'], from: '2025-01-01', to: '2026-01-01' }),
      deps,
    );

    const windows = splitRange('2025-01-01', '2026-01-01');
    expect(output).toMatchObject({ lanes: 4, toExport: 20 });
    expect(storedLanes(deps)).toEqual([
      { contract: B, dataset: 'activity', windows },
      { contract: A, dataset: 'activity', windows },
      { contract: B, dataset: 'seat', windows },
      { contract: A, dataset: 'seat', windows },
    ]);
    expect(output.planned).toBe(20);
    const plan = deps.store.json<{ contracts: string[]; datasets: string[]; items: unknown[] }>(
      'manifests/run-1/plan.json',
    );
    expect(plan.contracts).toEqual([B, A]);
    expect(plan.datasets).toEqual(['activity', 'seat']);
    expect(plan.items).toHaveLength(20);
    expect(plan.items[4]).toEqual({
      contract: B,
      dataset: 'activity',
      start: '2025-12-27',
      end: '2026-01-01',
    });
  });

  it('skips items whose object exists: SKIPPED records, and lanes without them', async () => {
    const deps = setup();
    const existing = [
      'sales-navigator/seat/contract=A/window=2025-04-01_2025-06-30/seat.csv',
      'sales-navigator/activity/contract=A/window=2025-01-01_2025-04-01/activity.csv',
      'sales-navigator/activity/contract=A/window=2025-04-01_2025-06-30/activity.csv',
      'sales-navigator/activity/contract=A/window=2025-06-30_2025-07-01/activity.csv',
    ];
    for (const key of existing) deps.store.put(key, 'a,b\n');

    const output = await planRun(
      event({ contracts: [A], datasets: ['seat', 'activity'], from: '2025-01-01', to: '2025-07-01' }),
      deps,
    );

    expect(output).toMatchObject({ lanes: 1, toExport: 2 });
    expect(storedLanes(deps)).toEqual([
      {
        contract: A,
        dataset: 'seat',
        windows: [
          { start: '2025-01-01', end: '2025-04-01' },
          { start: '2025-06-30', end: '2025-07-01' },
        ],
      },
    ]);
    expect({ planned: output.planned, skipped: output.skipped }).toEqual({ planned: 6, skipped: 4 });
    expect(deps.store.keys('manifests/run-1/items/')).toEqual([
      'manifests/run-1/items/activity-A-2025-01-01_2025-04-01.json',
      'manifests/run-1/items/activity-A-2025-04-01_2025-06-30.json',
      'manifests/run-1/items/activity-A-2025-06-30_2025-07-01.json',
      'manifests/run-1/items/seat-A-2025-04-01_2025-06-30.json',
    ]);
    expect(deps.store.json<ItemRecord>('manifests/run-1/items/seat-A-2025-04-01_2025-06-30.json')).toEqual({
      contract: A,
      dataset: 'seat',
      window: { start: '2025-04-01', end: '2025-06-30' },
      status: 'SKIPPED',
      key: existing[0],
      jobIds: [],
      attempts: 0,
      finishedAt: STARTED_AT,
    });
    // The plan still lists every item: FinishRun reports the skipped ones from their records.
    expect(deps.store.json<{ items: unknown[] }>('manifests/run-1/plan.json').items).toHaveLength(6);
  });

  it('counts only objects from the same source as exported: emulator data never covers a real run', async () => {
    const key = (c: string) => `sales-navigator/seat/contract=${c}/window=2025-01-01_2025-01-02/seat.csv`;
    const seed = (deps: ReturnType<typeof setup>) => {
      deps.store.put(key('A'), 'a,b\n'); // an earlier version's object: no source tag (LinkedIn)
      deps.store.objects.set(key('B'), {
        body: Buffer.from('a,b\n'),
        contentType: 'text/csv',
        metadata: { source: 'emulator', apihost: '127.0.0.1:4010' },
        tags: { source: 'emulator', apihost: '127.0.0.1:4010' },
      });
    };
    const input = { datasets: ['seat'], from: '2025-01-01', to: '2025-01-02' };

    const real = setup();
    seed(real);
    const forReal = await planRun(event(input), real);
    expect(forReal.lanes).toBe(1);
    expect(real.store.json<Lane[]>(forReal.lanesKey).map((l) => l.contract)).toEqual([B]); // the emulator's object is exported again
    expect(forReal.skipped).toBe(1);

    const demo = setup();
    seed(demo);
    const forDemo = await planRun(event(input), { ...demo, source: 'emulator' });
    expect(demo.store.json<Lane[]>(forDemo.lanesKey).map((l) => l.contract)).toEqual([A]);
    expect(demo.store.json<{ source: string }>('manifests/run-1/plan.json').source).toBe('emulator');
  });

  it('exports everything again with force: no SKIPPED records', async () => {
    const deps = setup({ lookBackDays: 1 });
    deps.store.put('sales-navigator/seat/contract=A/window=2026-03-08_2026-03-09/seat.csv', 'a,b\n');

    const output = await planRun(event({ contracts: [A], datasets: ['seat'], force: true }), deps);

    expect(output).toMatchObject({ force: true, planned: 1, skipped: 0 });
    expect(storedLanes(deps)).toEqual([
      { contract: A, dataset: 'seat', windows: [{ start: '2026-03-08', end: '2026-03-09' }] },
    ]);
    expect(deps.store.keys('manifests/')).toEqual([
      'manifests/run-1/lanes.json',
      'manifests/run-1/plan.json',
    ]);
  });

  describe('coverage: objects of any window count, only the gaps are planned', () => {
    const seatKey = (start: string, end: string, c = 'A') =>
      `sales-navigator/seat/contract=${c}/window=${start}_${end}/seat.csv`;
    const seatOnly = (from: string, to: string, more: object = {}) => ({
      contracts: [A],
      datasets: ['seat'],
      from,
      to,
      ...more,
    });
    const planOf = (deps: ReturnType<typeof setup>) =>
      deps.store.json<{ items: { start: string; end: string }[]; coverage: unknown[] }>(
        'manifests/run-1/plan.json',
      );

    it('exports only the days a differently-cut backfill does not hold, in windows of at most 90 days', async () => {
      const deps = setup();
      // A backfill's 90-day window, a split window's halves, a 0-byte empty export, a daily file.
      deps.store.put(seatKey('2025-01-01', '2025-04-01'), 'a,b\n');
      deps.store.put(seatKey('2025-05-01', '2025-05-03'), 'a,b\n');
      deps.store.put(seatKey('2025-05-03', '2025-05-05'), '');
      deps.store.put(seatKey('2025-09-01', '2025-09-02'), 'a,b\n');
      deps.store.put(seatKey('2024-12-01', '2025-02-01', 'B'), 'a,b\n'); // another contract's lane

      const output = await planRun(event(seatOnly('2025-02-01', '2025-10-01')), deps);

      expect(storedLanes(deps)).toEqual([
        {
          contract: A,
          dataset: 'seat',
          windows: [
            { start: '2025-04-01', end: '2025-05-01' },
            { start: '2025-05-05', end: '2025-08-03' }, // 90 days
            { start: '2025-08-03', end: '2025-09-01' },
            { start: '2025-09-02', end: '2025-10-01' },
          ],
        },
      ]);
      expect(output).toMatchObject({ planned: 8, skipped: 4, toExport: 4 });
      // The objects relied on are SKIPPED items with their own window (the backfill's reaches back).
      expect(planOf(deps).items.slice(0, 2)).toEqual([
        { contract: A, dataset: 'seat', start: '2025-01-01', end: '2025-04-01' },
        { contract: A, dataset: 'seat', start: '2025-04-01', end: '2025-05-01' },
      ]);
      expect(planOf(deps).coverage).toEqual([
        { contract: A, dataset: 'seat', days: 242, coveredDays: 59 + 4 + 1, exportDays: 242 - 64 },
      ]);
    });

    it('a window once split is covered by its halves: nothing planned, no job re-created whole', async () => {
      const deps = setup();
      deps.store.put(seatKey('2025-01-01', '2025-02-15'), 'a,b\n');
      deps.store.put(seatKey('2025-02-15', '2025-04-01'), 'a,b\n');

      const output = await planRun(event(seatOnly('2025-01-01', '2025-04-01')), deps);

      expect(output).toMatchObject({ lanes: 0, toExport: 0, planned: 2, skipped: 2 });
      expect(storedLanes(deps)).toEqual([]);
    });

    it('force plans the range cut afresh, supersedes objects inside it, keeps one reaching outside', async () => {
      const deps = setup();
      deps.store.put(seatKey('2025-01-01', '2025-01-10'), 'a,b\n'); // reaches outside: its days stay
      deps.store.put(seatKey('2025-01-10', '2025-01-12'), 'a,b\n'); // inside, cut differently
      deps.store.put(seatKey('2025-01-12', '2025-01-20'), 'a,b\n'); // inside, cut differently

      const output = await planRun(event(seatOnly('2025-01-05', '2025-01-20', { force: true })), deps);

      expect(output).toMatchObject({ planned: 2, skipped: 1, toExport: 1 });
      expect(storedLanes(deps)[0]?.windows).toEqual([{ start: '2025-01-10', end: '2025-01-20' }]);
      const plan = deps.store.json<{ coverage: unknown[]; superseded: string[] }>(
        'manifests/run-1/plan.json',
      );
      expect(plan.superseded).toEqual([
        seatKey('2025-01-10', '2025-01-12'),
        seatKey('2025-01-12', '2025-01-20'),
      ]);
      expect(plan.coverage).toEqual([
        { contract: A, dataset: 'seat', days: 15, coveredDays: 15, exportDays: 10 },
      ]);
    });

    it('the daily run heals the holes of its look-back and re-exports nothing it has', async () => {
      const deps = setup({ lookBackDays: 7 });
      // [03-02, 03-09): everything but 03-04 and 03-08 (yesterday, after the lag) is there.
      for (const [start, end] of [
        ['2026-03-02', '2026-03-04'],
        ['2026-03-05', '2026-03-08'],
      ]) {
        deps.store.put(seatKey(start as string, end as string), 'a,b\n');
      }

      await planRun(event({ contracts: [A], datasets: ['seat'] }), deps);

      expect(storedLanes(deps)[0]?.windows).toEqual([
        { start: '2026-03-04', end: '2026-03-05' },
        { start: '2026-03-08', end: '2026-03-09' },
      ]);
    });

    it('lists each lane once and reads metadata only of the objects overlapping the range', async () => {
      const deps = setup();
      for (let month = 1; month <= 9; month++) {
        deps.store.put(seatKey(`2024-0${month}-01`, `2024-0${month}-02`), 'a,b\n');
      }
      const listed: string[] = [];
      const read: string[] = [];
      const store = deps.store;
      const spying = Object.assign(Object.create(Object.getPrototypeOf(store)), store, {
        list: async (prefix: string) => {
          listed.push(prefix);
          return store.list(prefix);
        },
        tagsOf: async (key: string) => {
          read.push(key);
          return store.tagsOf(key);
        },
      });

      await planRun(event(seatOnly('2024-03-01', '2024-05-01')), { ...deps, store: spying });

      expect(listed).toEqual(['sales-navigator/seat/contract=A/']);
      expect(read).toEqual([seatKey('2024-03-01', '2024-03-02'), seatKey('2024-04-01', '2024-04-02')]);
    });
  });

  it('names the requested contract that cannot be exported', async () => {
    await expect(planRun(event({ contracts: [A, NO_ACCESS] }), setup())).rejects.toThrow(
      new InvalidInputError(
        `invalid execution input: contracts.1: ${NO_ACCESS} has no reporting access for this token`,
      ),
    );
    await expect(planRun(event({ contracts: ['urn:li:contract:Z'] }), setup())).rejects.toThrow(
      'contracts.0: urn:li:contract:Z is not a contract of this token',
    );
  });

  it('refuses a reportable contract whose URN cannot be part of an S3 key, and ignores one without access', async () => {
    const odd = { contract: 'urn:li:contract:a/b', name: 'Odd', hasReportingAccess: true };
    const refused = fakeDeps({ now: STARTED_AT, linkedin: new FakeLinkedIn([contract('A'), odd]) });

    const error = await planRun(event({}), refused).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(LinkedInResponseError);
    expect((error as Error).message).toContain('cannot use as S3 key parts: "urn:li:contract:a/b"');
    expect((error as Error).message).toContain('accepted: urn:li:contract:<id> or urn:li:salesContract:<id>');
    expect(refused.store.keys()).toEqual([]);

    const ignored = fakeDeps({
      now: STARTED_AT,
      linkedin: new FakeLinkedIn([contract('A'), { ...odd, hasReportingAccess: false }]),
    });
    expect((await planRun(event({}), ignored)).planned).toBe(3);
  });

  it('plans the contracts of LinkedIn’s documented salesContracts sample (urn:li:contract form)', async () => {
    // The two elements of the sample answer on "Sales Contracts", verbatim except the long descriptions.
    const linkedin = new FakeLinkedIn([
      { contract: 'urn:li:contract:123456', name: 'North America Sales Team', hasReportingAccess: true },
      {
        contract: 'urn:li:contract:1234560',
        name: 'EMEA Sales-EnterpriseLicense',
        hasReportingAccess: false,
      },
    ]);
    const deps = fakeDeps({ now: STARTED_AT, linkedin });

    const output = await planRun(event({ datasets: ['seat'] }), deps);

    expect(deps.store.json<Lane[]>(output.lanesKey)).toEqual([
      {
        contract: 'urn:li:contract:123456',
        dataset: 'seat',
        windows: [{ start: '2026-03-02', end: '2026-03-09' }],
      },
    ]);
    expect(deps.store.json<{ contracts: string[] }>('manifests/run-1/plan.json').contracts).toEqual([
      'urn:li:contract:123456',
    ]);
  });

  it('matches a requested contract by id in either URN form, plans it once as LinkedIn writes it', async () => {
    const deps = setup();

    const output = await planRun(
      event({ contracts: ['urn:li:salesContract:A', A, 'urn:li:salesContract:B'], datasets: ['seat'] }),
      deps,
    );

    expect(deps.store.json<Lane[]>(output.lanesKey).map((l) => l.contract)).toEqual([A, B]);
    expect(output.planned).toBe(2);
    expect(deps.linkedin.listCalls).toBe(1);
  });

  it('counts an object written under the seed form as covering the documented form (same key)', async () => {
    const deps = setup();
    deps.store.put('sales-navigator/seat/contract=A/window=2026-03-08_2026-03-09/seat.csv', 'a,b\n');

    const output = await planRun(event({ contracts: ['urn:li:salesContract:A'], datasets: ['seat'] }), deps);

    // The day it holds is covered; the rest of the 7-day look-back is exported.
    expect(output).toMatchObject({ planned: 2, skipped: 1, lanes: 1, toExport: 1 });
    expect(
      deps.store.json<ItemRecord>('manifests/run-1/items/seat-A-2026-03-08_2026-03-09.json'),
    ).toMatchObject({
      contract: A,
      status: 'SKIPPED',
    });
  });

  it('de-duplicates LinkedIn listing one id in both forms, keeping the first URN it listed', async () => {
    const linkedin = new FakeLinkedIn([
      contract('A'),
      { contract: 'urn:li:salesContract:A', name: 'A again', hasReportingAccess: true },
    ]);
    const deps = fakeDeps({ now: STARTED_AT, linkedin });
    const output = await planRun(event({ datasets: ['seat'] }), deps);
    expect(deps.store.json<Lane[]>(output.lanesKey).map((l) => l.contract)).toEqual([A]);
  });

  it('fails as a configuration problem when the token has no reportable contract', async () => {
    const deps = fakeDeps({ now: STARTED_AT, linkedin: new FakeLinkedIn([contract('C', false)]) });

    const error = await planRun(event({}), deps).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(
      'no Sales Navigator contract with reporting access (1 contract(s) found)',
    );
    expect(deps.store.keys()).toEqual([]);
  });

  it('rejects invalid input and a future `to` before calling LinkedIn or writing anything', async () => {
    const deps = setup();

    await expect(planRun(event({ from: '2026-03-01' }), deps)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(planRun(event({ from: '2026-03-01', to: '2026-03-11' }), deps)).rejects.toThrow(
      'to: 2026-03-11 is after today (2026-03-10 UTC)',
    );
    expect(deps.linkedin.listCalls).toBe(0);
    expect(deps.store.keys()).toEqual([]);
  });

  it('refuses a plan over maxItemsPerRun, before listing contracts when the count is already known', async () => {
    const deps = setup({ maxItemsPerRun: 5 });
    const oneContract = { contracts: [A], datasets: ['seat'] };

    // 451 days → 6 windows.
    const error = await planRun(event({ ...oneContract, from: '2024-06-01', to: '2025-08-26' }), deps).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(PlanTooLargeError);
    expect((error as Error).message).toContain('the run would have 6 items');
    expect((error as Error).message).toContain('bound of 5 per run');
    expect(deps.linkedin.listCalls).toBe(0);

    // 450 days → 5 windows: exactly the bound.
    const output = await planRun(event({ ...oneContract, from: '2024-06-01', to: '2025-08-25' }), deps);
    expect(output.planned).toBe(5);
  });

  it('refuses a backfill over maxItemsPerRun once discovered contracts multiply it', async () => {
    const deps = setup({ maxItemsPerRun: 7 });

    // 2 reportable contracts × 3 datasets × 2 windows = 12.
    await expect(planRun(event({ from: '2025-01-01', to: '2025-05-01' }), deps)).rejects.toThrow(
      PlanTooLargeError,
    );
    expect(deps.linkedin.listCalls).toBe(1);
    expect(deps.store.keys()).toEqual([]);
  });

  it('never refuses a one-window run (the daily schedule), whatever the number of contracts', async () => {
    const contracts = Array.from({ length: 1000 }, (_, i) => contract(String(i + 1)));
    const deps = fakeDeps({
      now: STARTED_AT,
      linkedin: new FakeLinkedIn(contracts),
      settings: { maxItemsPerRun: 5 },
    });

    const output = await planRun(event({}), deps);

    expect(output).toMatchObject({ lanes: 3000, toExport: 3000, planned: 3000, skipped: 0 });
    const lanes = deps.store.json<Lane[]>('manifests/run-1/lanes.json');
    expect(lanes).toHaveLength(3000);
    for (let i = 1; i < lanes.length; i++) {
      expect(lanes[i]?.contract, `lanes ${i - 1} and ${i}`).not.toBe(lanes[i - 1]?.contract);
    }
  });
});
