// Lambda CommitCrmExport: every part is whole, so the instance's cursor moves (see steps/crm/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { crmSteps } from '#steps/crm/index';

export const handler = lambdaHandler(crmSteps.commitCrmExport);
