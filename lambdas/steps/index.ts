// Every step of the two state machines, by the name the workflow binds it to.
import { defineStep } from './define-step.ts';
import { FinishRunEventSchema, finishRun } from './finish.ts';
import { checkJob, copyToStore, createJob, recordFailure } from './job.ts';
import { PlanRunEventSchema, planRun } from './plan.ts';
import { ItemStateSchema } from './state.ts';

/** Every Task of both state machines, keyed like `WorkflowFunctions` in lib/workflow.ts. */
export const steps = {
  planRun: defineStep('PlanRun', PlanRunEventSchema, planRun),
  createJob: defineStep('CreateJob', ItemStateSchema, createJob),
  checkJob: defineStep('CheckJob', ItemStateSchema, checkJob),
  copyToS3: defineStep('CopyToS3', ItemStateSchema, copyToStore),
  recordFailure: defineStep('RecordFailure', ItemStateSchema, recordFailure),
  finishRun: defineStep('FinishRun', FinishRunEventSchema, finishRun),
};
