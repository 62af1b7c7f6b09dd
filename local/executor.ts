// The local executor: the same ASL on aws-local-stepfunctions, Tasks bound to in-process steps.
import './polyfill.ts';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import * as z from 'zod';
import { type ErrorInfo, errorInfo } from '#common/errors';
import type { ExportItem } from '#common/model';
import { CRM_STATE } from '#lib/crm-workflow';
import {
  type AslDefinition,
  DEFAULT_MAP_CONCURRENCY,
  LOCAL_BUCKET,
  renderWorkflowAsl,
  STATE,
} from '#lib/workflow';
import { crmSteps } from '#steps/crm/index';
import type { Step } from '#steps/define-step';
import type { Deps } from '#steps/deps';
import { finishRun } from '#steps/finish';
import { steps } from '#steps/index';
import type { ItemState, PlanOutput } from '#steps/state';
import { itemId } from '#storage/keys';
import type { ObjectStore } from '#storage/store';
import { interruptibleDeps, RunInterruptedError } from './interrupt.ts';

/**
 * Runs ExportRun exactly as Step Functions would, but in this process: the ASL comes from the same
 * builder the stack deploys (`renderWorkflowAsl`), executed by aws-local-stepfunctions. Each Lambda
 * Task is bound to its in-process step, each child execution (`states:startExecution.sync`) to a
 * local run of the ExportJob definition. Waits and Retry intervals are multiplied by `timeScale`.
 *
 * Distributed Map (ExportEach). aws-local-stepfunctions runs a Distributed Map's ItemProcessor like an
 * inline one (each iteration a nested run of the processor) but implements neither `ItemReader` nor the
 * 10,000 default concurrency. The executor closes that gap without touching the definition AWS runs:
 * only the in-memory copy handed to the engine (`withLocalItemReaders`) is rewritten, per Map that has
 * an ItemReader:
 *   - a Task state `<Map>.ItemReader` is put in front of the Map (everything that pointed at the Map
 *     now points at it). Its Parameters are the ItemReader's own (`Bucket`, `Key.$`), so the engine
 *     evaluates them against the Map's input exactly as AWS does; the Task is bound to an in-process
 *     handler that reads that object from the run's store (the bucket of the rendered definitions,
 *     LOCAL_BUCKET, is the store's root), checks it is a JSON array as AWS's JSON ItemReader requires
 *     (else `States.ItemReaderFailed`), and parks the items in this execution's context object;
 *     its result is discarded (ResultPath null), so the Map sees the same input as on AWS;
 *   - the Map takes its items from there (`ItemsPath: $$.ItemReaderItems.<Map>`) instead of the
 *     ItemReader, and gets MaxConcurrency 10,000 when the definition leaves it unset (AWS's default;
 *     the engine's own would be 40). The engine honours MaxConcurrency as AWS does, so a local run
 *     with many lanes overlaps them exactly as the deployed one would.
 * The injected Task is not a state of the deployed definition: it is not counted as a transition.
 * The engine fails a Map on the first failed iteration whatever ToleratedFailurePercentage says; the
 * lane iterations cannot fail (RunItem catches every error into a Pass), so that changes nothing here.
 */

export type ProgressEvent =
  | { type: 'planned'; runId: string; planned: number; skipped: number; toExport: number }
  | {
      type: 'status';
      item: ExportItem;
      status: string;
      jobId?: number;
      /** Seconds until the next step of this item (the next poll), already scaled by `timeScale`. */
      nextInSeconds?: number;
    }
  | { type: 'retry'; state: string; error: string; attempt: number }
  | { type: 'split'; item: ExportItem; halves: number }
  | { type: 'exported'; item: ExportItem; key: string; bytes: number; rows: number }
  | { type: 'failed'; item: ExportItem; error: ErrorInfo };

export interface LocalRunOptions {
  deps: Deps;
  /** Multiplies every Wait state and Retry interval (1 = real time; 0.001 turns an hour into 3.6 s). */
  timeScale?: number;
  /** Lanes exported at once (the stack's `mapConcurrency`). @default DEFAULT_MAP_CONCURRENCY */
  mapConcurrency?: number;
  /** Execution name, the run id (default: `local-<timestamp>-<random>`). */
  runId?: string;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface LocalRunResult {
  runId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** FinishRun's output when the run succeeded. */
  output?: unknown;
  /** The error the execution failed with (e.g. InvalidInputError from PlanRun, RunIncompleteError from FinishRun). */
  error?: ErrorInfo;
  /** ABORTED only: the manifest of the interrupted run was written (false when it stopped before planning). */
  manifestWritten?: boolean;
  /** Over the run and all its child executions: what Step Functions Standard bills (state transitions). */
  stats: RunStats;
}

export interface RunStats {
  executions: number;
  /** States entered plus retries: the billed state transitions of a Standard workflow, approximately. */
  transitions: number;
}

type Handler = (input: unknown) => Promise<unknown>;

export function newRunId(now: Date = new Date()): string {
  return `local-${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomUUID().slice(0, 8)}`;
}

export async function runExportLocally(input: unknown, options: LocalRunOptions): Promise<LocalRunResult> {
  const { timeScale = 1, onProgress, signal } = options;
  // Once `signal` fires: no LinkedIn call, uploads under way cancelled (see interrupt.ts).
  const deps = signal ? interruptibleDeps(options.deps, signal) : options.deps;
  /** Every Task handler call still running: drained after an interrupt, before the manifest. */
  const inflight = new Set<Promise<unknown>>();
  /** LinkedIn jobs created per item id, for the manifest of an interrupted run. */
  const jobIdsByItem = new Map<string, number[]>();
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be a positive number, got ${timeScale}`);
  const asl = renderWorkflowAsl({ mapConcurrency: options.mapConcurrency ?? DEFAULT_MAP_CONCURRENCY });
  const runDefinition = withLocalItemReaders(asl.exportRun);
  const runMachine = new StateMachine(runDefinition.definition as never);
  const parked: ReadItems = {};
  const jobMachine = new StateMachine(asl.exportJob as never);
  const crmMachine = new StateMachine(asl.exportCrmJob as never);
  const runId = options.runId ?? newRunId(deps.now());
  const stats: RunStats = { executions: 0, transitions: 0 };

  const bind = <O>(step: Step<O>, observe?: (output: O, input: unknown) => void): Handler => {
    return async (event) => {
      const output = await step.run(event, deps);
      observe?.(output, event);
      return output;
    };
  };

  /** One ExportJob execution; a failed child surfaces to its parent Task as Step Functions does. */
  const runChild: Handler = async (params) => {
    const { Input } = params as { Input: unknown };
    const childId = `${runId}-item-${randomUUID().slice(0, 8)}`;
    const result = await execute(
      jobMachine,
      asl.arns.exportJob,
      asl.exportJob,
      Input,
      childId,
      { timeScale, signal, stats, inflight, onProgress },
      {
        [STATE.createJob]: bind(steps.createJob, (s) => {
          jobIdsByItem.set(itemId(s.item), s.jobIds);
          progressStatus(s);
        }),
        [STATE.checkJob]: bind(steps.checkJob, (s) => {
          progressStatus(s);
          if (s.next === 'SPLIT')
            onProgress?.({ type: 'split', item: s.item, halves: s.halves?.length ?? 0 });
        }),
        [STATE.copyToS3]: bind(steps.copyToS3, (s) =>
          onProgress?.({
            type: 'exported',
            item: s.item,
            key: s.result?.key ?? '',
            bytes: s.result?.bytes ?? 0,
            rows: s.result?.rows ?? 0,
          }),
        ),
        [STATE.recordFailure]: bind(steps.recordFailure, (s) =>
          onProgress?.({
            type: 'failed',
            item: s.item,
            error: s.failure ?? { name: 'Error', message: 'failed' },
          }),
        ),
        [STATE.exportHalf]: runChild,
      },
    );
    if (result.status !== 'SUCCEEDED') {
      throw Object.assign(new Error(result.error?.message ?? 'child execution failed'), {
        name: 'States.TaskFailed',
      });
    }
    return { Output: result.output, Status: 'SUCCEEDED', ExecutionArn: childId };
  };

  /** One ExportCrmJob execution (a CRM instance); a failed child surfaces to RunCrmItem like the others. */
  const runCrmChild: Handler = async (params) => {
    const { Input } = params as { Input: unknown };
    const childId = `${runId}-crm-${randomUUID().slice(0, 8)}`;
    const result = await execute(
      crmMachine,
      asl.arns.exportCrmJob,
      asl.exportCrmJob,
      Input,
      childId,
      { timeScale, signal, stats, inflight, onProgress },
      {
        [CRM_STATE.createCrmJob]: bind(crmSteps.createCrmJob),
        [CRM_STATE.checkCrmJob]: bind(crmSteps.checkCrmJob),
        [CRM_STATE.copyCrmPart]: bind(crmSteps.copyCrmPart),
        [CRM_STATE.commitCrmExport]: bind(crmSteps.commitCrmExport),
        [CRM_STATE.recordCrmFailure]: bind(crmSteps.recordCrmFailure),
      },
    );
    if (result.status !== 'SUCCEEDED') {
      throw Object.assign(new Error(result.error?.message ?? 'CRM child execution failed'), {
        name: 'States.TaskFailed',
      });
    }
    return { Output: result.output, Status: 'SUCCEEDED', ExecutionArn: childId };
  };

  const progressStatus = (s: ItemState): void => {
    if (!s.status) return;
    const next = s.next === undefined || s.next === 'POLL' || s.next === 'RECREATE';
    onProgress?.({
      type: 'status',
      item: s.item,
      status: s.status,
      jobId: s.job?.id,
      ...(next && s.waitSeconds !== undefined && { nextInSeconds: s.waitSeconds * timeScale }),
    });
  };

  const result = await execute(
    runMachine,
    asl.arns.exportRun,
    asl.exportRun,
    input,
    runId,
    { timeScale, signal, stats, inflight, onProgress },
    {
      [STATE.planRun]: bind(steps.planRun, (plan: PlanOutput) =>
        onProgress?.({
          type: 'planned',
          runId: plan.runId,
          planned: plan.planned,
          skipped: plan.skipped,
          toExport: plan.toExport,
        }),
      ),
      [STATE.runItem]: runChild,
      [STATE.runCrmItem]: runCrmChild,
      [STATE.finishRun]: bind(steps.finishRun),
      ...Object.fromEntries(
        runDefinition.readers.map((reader) => [reader.state, readItems(reader.map, deps.store, parked)]),
      ),
    },
    { injected: new Set(runDefinition.readers.map((reader) => reader.state)), itemReaderItems: parked },
  );
  if (result.status !== 'ABORTED') return result;
  return { ...result, manifestWritten: await finishInterrupted(runId, options.deps, inflight, jobIdsByItem) };
}

/**
 * After an interrupt: waits for the Task calls still running (they end quickly: LinkedIn calls are
 * refused and uploads cancelled), then writes the manifest with every item's true state: what
 * finished as recorded, the rest NOT_STARTED or INTERRUPTED. False when the run had no plan yet.
 */
async function finishInterrupted(
  runId: string,
  deps: Deps,
  inflight: Set<Promise<unknown>>,
  jobIdsByItem: Map<string, number[]>,
): Promise<boolean> {
  while (inflight.size) await Promise.allSettled([...inflight]);
  try {
    await finishRun({ runId }, deps, {
      interrupted: { jobIdsOf: (item) => jobIdsByItem.get(itemId(item)) ?? [] },
    });
  } catch (err) {
    if ((err as Error).name === 'RunIncompleteError') return true; // written; some items FAILED
    if ((err as Error).name === 'ConfigurationError') return false; // no plan: stopped before PlanRun
    throw err;
  }
  return true;
}

/** Items an ItemReader state read, per Map state name; in the context object as `ItemReaderItems`. */
type ReadItems = Record<string, unknown[]>;

const ItemReaderParamsSchema = z.object({ Bucket: z.string(), Key: z.string().min(1) });

/** The injected `<Map>.ItemReader` Task: reads the Map's items from the store, as AWS's JSON ItemReader. */
function readItems(map: string, store: ObjectStore, parked: ReadItems): Handler {
  return async (params) => {
    const parsed = ItemReaderParamsSchema.safeParse(params);
    if (!parsed.success || parsed.data.Bucket !== LOCAL_BUCKET) {
      throw itemReaderFailed(`${map}: ItemReader parameters must name bucket ${LOCAL_BUCKET} and a key`);
    }
    const items = await store.getJson(parsed.data.Key);
    if (!Array.isArray(items)) {
      throw itemReaderFailed(
        `${map}: ${parsed.data.Key} in ${store.location} is ${items === undefined ? 'missing' : 'not a JSON array'}`,
      );
    }
    parked[map] = items;
    return {};
  };
}

function itemReaderFailed(message: string): Error {
  return Object.assign(new Error(message), { name: 'States.ItemReaderFailed' });
}

interface LocalDefinition {
  definition: AslDefinition;
  /** The injected reader Tasks: `state` reads the items of Map `map`. */
  readers: { state: string; map: string }[];
}

/** AWS's MaxConcurrency when a Distributed Map leaves it unset (0 or absent). */
const DISTRIBUTED_DEFAULT_CONCURRENCY = 10_000;

/**
 * The copy of a definition the engine runs: every Map with an ItemReader gets a reader Task in front
 * of it and takes its items from the context (see the comment at the top). The input is not changed.
 */
export function withLocalItemReaders(definition: AslDefinition): LocalDefinition {
  const copy = structuredClone(definition);
  const readers: LocalDefinition['readers'] = [];
  const rewrite = (scope: { StartAt: string; States: Record<string, unknown> }): void => {
    for (const [name, raw] of Object.entries(scope.States)) {
      const state = raw as Record<string, unknown> & {
        ItemProcessor?: { StartAt: string; States: Record<string, unknown> };
      };
      if (state.ItemProcessor) rewrite(state.ItemProcessor);
      if (state.Type !== 'Map' || !state.ItemReader) continue;
      if (!/^\w+$/.test(name)) throw new Error(`cannot run Map state "${name}" locally: use a plain name`);
      const reader = `${name}.ItemReader`;
      const { ItemReader, ...map } = state as { ItemReader: { Resource: string; Parameters: unknown } };
      const retarget = (next: unknown) => (next === name ? reader : next);
      scope.StartAt = retarget(scope.StartAt) as string;
      for (const other of Object.values(scope.States) as Record<string, unknown>[]) {
        if ('Next' in other) other.Next = retarget(other.Next);
        if ('Default' in other) other.Default = retarget(other.Default);
        for (const handler of [
          ...((other.Catch as { Next: string }[]) ?? []),
          ...((other.Choices as { Next: string }[]) ?? []),
        ]) {
          handler.Next = retarget(handler.Next) as string;
        }
      }
      scope.States[reader] = {
        Type: 'Task',
        Comment: `Local stand-in for ${name}'s ItemReader (not in the deployed definition).`,
        Resource: ItemReader.Resource,
        ...('InputPath' in state && { InputPath: state.InputPath }),
        Parameters: ItemReader.Parameters,
        ResultPath: null,
        Next: name,
      };
      scope.States[name] = {
        ...map,
        ItemsPath: `$$.ItemReaderItems.${name}`,
        MaxConcurrency: (state.MaxConcurrency as number | undefined) || DISTRIBUTED_DEFAULT_CONCURRENCY,
      };
      readers.push({ state: reader, map: name });
    }
  };
  rewrite(copy);
  return { definition: copy, readers };
}

async function execute(
  machine: StateMachine,
  stateMachineArn: string,
  definition: AslDefinition,
  input: unknown,
  name: string,
  {
    timeScale,
    signal,
    stats,
    inflight,
    onProgress,
  }: {
    timeScale: number;
    signal?: AbortSignal;
    stats: RunStats;
    inflight: Set<Promise<unknown>>;
    onProgress?: (event: ProgressEvent) => void;
  },
  handlers: Record<string, Handler>,
  local: {
    /** States the executor injected (not in the deployed definition): not counted as transitions. */
    injected?: ReadonlySet<string>;
    /** What the injected ItemReader Tasks read, exposed to the Maps as `$$.ItemReaderItems`. */
    itemReaderItems?: ReadItems;
  } = {},
): Promise<LocalRunResult> {
  const { injected = new Set<string>(), itemReaderItems = {} } = local;
  // Interrupted before this execution began (e.g. a Map iteration the library starts after the
  // abort): nothing of it runs, so no LinkedIn job is created for it.
  if (signal?.aborted) return { runId: name, status: 'ABORTED', stats };
  // The Wait states sleep `$.waitSeconds`, which the Task just before them computed: remember it per
  // execution and hand the scaled value to the Wait state's override.
  let lastWaitSeconds = 0;
  const recordingHandlers = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (event: unknown) => {
        if (signal?.aborted) throw new RunInterruptedError();
        const call = handler(event);
        inflight.add(call);
        const output = await call.finally(() => inflight.delete(call));
        const wait = (output as { waitSeconds?: unknown } | null)?.waitSeconds;
        if (typeof wait === 'number') lastWaitSeconds = wait;
        return output;
      },
    ]),
  );
  const waitTimeOverrides: Record<string, number> = {};
  for (const state of waitStates(definition)) {
    Object.defineProperty(waitTimeOverrides, state, {
      enumerable: true,
      get: () => Math.round(lastWaitSeconds * 1000 * timeScale),
    });
  }

  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: recordingHandlers as never,
      waitTimeOverrides,
      retryIntervalOverrides: scaledRetryIntervals(definition, timeScale),
    },
    context: {
      Execution: {
        Id: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        Name: name,
        Input: input as never,
        StartTime: new Date().toISOString(),
      },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').at(-1) },
      ItemReaderItems: itemReaderItems as never,
    },
    noThrowOnAbort: true,
  });
  stats.executions++;
  const counting = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
      if (!injected.has(event.state.name)) stats.transitions++;
      if (event.type === 'StateRetried') {
        onProgress?.({
          type: 'retry',
          state: event.state.name,
          error: event.retry.retrier.ErrorEquals.join(' or '),
          attempt: event.retry.attempt,
        });
      }
    }
  })();
  const onAbort = (): void => execution.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const output = await execution.result;
    if (signal?.aborted) return { runId: name, status: 'ABORTED', stats };
    return { runId: name, status: 'SUCCEEDED', output, stats };
  } catch (err) {
    return { runId: name, status: 'FAILED', error: executionError(err), stats };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await counting.catch(() => undefined);
  }
}

/** An execution failure as Step Functions reports it: a Fail state's error/cause, or the Task's error. */
function executionError(err: unknown): ErrorInfo {
  const failed = err as { name?: string; message?: string; cause?: unknown };
  if (failed.name === 'ExecutionError' && failed.cause instanceof Error) return errorInfo(failed.cause);
  return errorInfo(err);
}

/** Every Wait state of a definition, Map item processors included. */
function waitStates(definition: { States: Record<string, unknown> }): string[] {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    const s = state as { Type?: string; ItemProcessor?: { States: Record<string, unknown> } };
    if (s.Type === 'Wait') return [name];
    return s.ItemProcessor ? waitStates(s.ItemProcessor) : [];
  });
}

/** Retry intervals of every Task, scaled (the backoff rate is not applied to an override). */
function scaledRetryIntervals(
  definition: { States: Record<string, unknown> },
  timeScale: number,
): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    const s = state as {
      Retry?: { IntervalSeconds?: number }[];
      ItemProcessor?: { States: Record<string, unknown> };
    };
    if (s.Retry) result[name] = s.Retry.map((r) => Math.round((r.IntervalSeconds ?? 1) * 1000 * timeScale));
    if (s.ItemProcessor) Object.assign(result, scaledRetryIntervals(s.ItemProcessor, timeScale));
  }
  return result;
}
