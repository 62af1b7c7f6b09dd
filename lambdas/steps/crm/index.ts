// Every step of a CRM data validation export, by the name the workflow binds it to.
import { defineStep } from '../define-step.ts';
import { checkCrmJob, commitCrmExport, copyCrmPart, createCrmJob, recordCrmFailure } from './job.ts';
import { CrmStateSchema } from './state.ts';

/** The Tasks of a CRM item's child execution (CreateCrmJob → Wait → CheckCrmJob → CopyCrmPart… → CommitCrmExport). */
export const crmSteps = {
  createCrmJob: defineStep('CreateCrmJob', CrmStateSchema, createCrmJob),
  checkCrmJob: defineStep('CheckCrmJob', CrmStateSchema, checkCrmJob),
  copyCrmPart: defineStep('CopyCrmPart', CrmStateSchema, copyCrmPart),
  commitCrmExport: defineStep('CommitCrmExport', CrmStateSchema, commitCrmExport),
  recordCrmFailure: defineStep('RecordCrmFailure', CrmStateSchema, recordCrmFailure),
};
