import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { type AslDefinition, renderWorkflowAsl } from '#lib/workflow';
import { ItemStateSchema, NEXT_STEPS } from '#steps/state';

const asl = renderWorkflowAsl({ mapConcurrency: 3 });
const LAMBDA_ARNS = Object.values(asl.arns.functions);

interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Choices?: { Variable: string; StringEquals?: string; Next: string }[];
  Parameters?: Record<string, unknown>;
  ItemProcessor?: AslDefinition;
  MaxConcurrency?: number;
  SecondsPath?: string;
}

/** Every state of a definition, nested Map processors included, by name (names are unique per machine). */
function statesOf(definition: AslDefinition): Map<string, AslState> {
  const all = new Map<string, AslState>();
  const walk = (def: AslDefinition): void => {
    for (const [name, state] of Object.entries(def.States as Record<string, AslState>)) {
      expect(all.has(name), `state name ${name} used twice`).toBe(false);
      all.set(name, state);
      if (state.ItemProcessor) walk(state.ItemProcessor);
    }
  };
  walk(definition);
  return all;
}

function state(definition: AslDefinition, name: string): AslState {
  const found = statesOf(definition).get(name);
  if (!found) throw new Error(`no state ${name}`);
  return found;
}

const retried = (s: AslState) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
const definitions = [
  ['ExportRun', asl.exportRun],
  ['ExportJob', asl.exportJob],
] as const;

describe('renderWorkflowAsl', () => {
  it.each(definitions)('renders %s as plain JSON with no CloudFormation left in it', (_, definition) => {
    const json = JSON.stringify(definition);

    expect(JSON.parse(json)).toEqual(definition);
    expect(json).not.toContain('Fn::');
    expect(json).not.toContain('"Ref"');
    expect(json).not.toContain('${Token');
    expect(json).not.toContain('AWS::');
  });

  it.each(definitions)('gives every Task of %s a literal ARN', (_, definition) => {
    const tasks = [...statesOf(definition).values()].filter((s) => s.Type === 'Task');

    expect(tasks.length).toBeGreaterThan(0);
    for (const task of tasks) {
      expect(task.Resource).toMatch(/^arn:aws:(lambda|states):/);
      if (task.Resource?.startsWith('arn:aws:lambda:')) expect(LAMBDA_ARNS).toContain(task.Resource);
    }
  });

  it.each(definitions)(
    'links %s completely: every Next and Default names a state of the same scope',
    (_, definition) => {
      const check = (def: AslDefinition): void => {
        const names = new Set(Object.keys(def.States));
        expect(names.has(def.StartAt)).toBe(true);
        for (const s of Object.values(def.States as Record<string, AslState>)) {
          const targets = [
            s.Next,
            s.Default,
            ...(s.Catch ?? []).map((c) => c.Next),
            ...(s.Choices ?? []).map((c) => c.Next),
          ];
          for (const target of targets.filter((t) => t !== undefined)) expect(names).toContain(target);
          if (s.ItemProcessor) check(s.ItemProcessor);
        }
      };
      check(definition);
    },
  );

  it.each(definitions)('renders %s as a definition aws-local-stepfunctions accepts', (_, definition) => {
    expect(() => new StateMachine(definition as never)).not.toThrow();
  });

  it('plans, runs each item as a synchronous ExportJob execution, then finishes', () => {
    const run = asl.exportRun;
    expect(run.StartAt).toBe('PlanRun');
    expect(state(run, 'PlanRun')).toMatchObject({
      Resource: asl.arns.functions.planRun,
      Parameters: { 'input.$': '$', 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' },
      Next: 'ExportEach',
    });
    expect(state(run, 'ExportEach').MaxConcurrency).toBe(3);
    expect(state(run, 'ExportLane').MaxConcurrency).toBe(1);

    const runItem = state(run, 'RunItem');
    expect(runItem.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(runItem.Parameters?.StateMachineArn).toBe(asl.arns.exportJob);
    expect(runItem.Catch?.[0]?.ErrorEquals).toEqual(['States.ALL']);
    expect(state(run, 'FinishRun')).toMatchObject({ Resource: asl.arns.functions.finishRun, End: true });
  });

  it('passes children only fields of the ExportJob state', () => {
    const inputKeys = (name: string, definition: AslDefinition) =>
      Object.keys((state(definition, name).Parameters?.Input ?? {}) as Record<string, unknown>)
        .map((key) => key.replace(/\.\$$/, ''))
        .filter((key) => key !== 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID');
    const known = Object.keys(ItemStateSchema.shape);

    expect(inputKeys('RunItem', asl.exportRun)).toEqual(['runId', 'item', 'force', 'depth']);
    const half = inputKeys('ExportHalf', asl.exportJob);
    expect(half).toEqual(expect.arrayContaining(['runId', 'item', 'force', 'depth', 'splitFrom']));
    for (const key of half) expect(known).toContain(key);
    expect(state(asl.exportJob, 'ExportHalf')).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: asl.arns.exportJob },
    });
  });

  it('retries LinkedIn throttling and transient errors on CreateJob and CheckJob', () => {
    for (const name of ['CreateJob', 'CheckJob']) {
      expect(retried(state(asl.exportJob, name))).toEqual(
        expect.arrayContaining(['LinkedInThrottledError', 'LinkedInTransientError']),
      );
    }
    expect(retried(state(asl.exportRun, 'PlanRun'))).toEqual(
      expect.arrayContaining(['LinkedInThrottledError', 'LinkedInTransientError']),
    );
  });

  it('retries expired and cut-off downloads on CopyToS3, and nothing that cannot succeed', () => {
    const copy = retried(state(asl.exportJob, 'CopyToS3'));

    expect(copy).toEqual(expect.arrayContaining(['DownloadUrlExpiredError', 'DownloadIncompleteError']));
    for (const name of ['InvalidInputError', 'LinkedInAuthError', 'DownloadUrlRejectedError', 'States.ALL']) {
      expect(copy).not.toContain(name);
    }
  });

  it('catches every error of every ExportJob Lambda task into RecordFailure, keeping the state', () => {
    const lambdas = [...statesOf(asl.exportJob)].filter(([, s]) => s.Resource?.startsWith('arn:aws:lambda:'));
    expect(lambdas.map(([name]) => name).sort()).toEqual([
      'CheckJob',
      'CopyToS3',
      'CreateJob',
      'RecordFailure',
    ]);

    for (const [name, s] of lambdas) {
      if (name === 'RecordFailure') {
        expect(s.Catch).toBeUndefined();
        continue;
      }
      expect(s.Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' },
      ]);
    }
    expect(state(asl.exportJob, 'RecordFailure').Next).toBe('ItemFailed');
    expect(state(asl.exportJob, 'ItemFailed').Type).toBe('Fail');
  });

  it('routes every next step but FAIL explicitly, and FAIL by default to RecordFailure', () => {
    const route = state(asl.exportJob, 'Route');

    expect(route.Type).toBe('Choice');
    expect(route.Default).toBe('RecordFailure');
    const choices = route.Choices ?? [];
    expect(choices.every((c) => c.Variable === '$.next')).toBe(true);
    expect(choices.map((c) => c.StringEquals).sort()).toEqual(NEXT_STEPS.filter((n) => n !== 'FAIL').sort());
    const target = (next: string) => choices.find((c) => c.StringEquals === next)?.Next;
    expect(target('POLL')).toBe('WaitForJob');
    expect(target('COPY')).toBe('CopyToS3');
    expect(target('RECREATE')).toBe('WaitBeforeRecreate');
    expect(target('SPLIT')).toBe('ExportHalves');
    expect(state(asl.exportJob, target('DONE') ?? '').Type).toBe('Succeed');
  });

  it('waits the seconds the steps computed', () => {
    expect(state(asl.exportJob, 'WaitForJob')).toMatchObject({
      SecondsPath: '$.waitSeconds',
      Next: 'CheckJob',
    });
    expect(state(asl.exportJob, 'WaitBeforeRecreate')).toMatchObject({
      SecondsPath: '$.waitSeconds',
      Next: 'CreateJob',
    });
    // CreateJob routes too: POLL after creating a job, DONE when another run holds the item's lease.
    expect(state(asl.exportJob, 'CreateJob').Next).toBe('Route');
    expect(state(asl.exportJob, 'CheckJob').Next).toBe('Route');
  });
});
