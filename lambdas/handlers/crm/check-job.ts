// Lambda CheckCrmJob: reads the CRM job and decides the next state (see steps/crm/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { crmSteps } from '#steps/crm/index';

export const handler = lambdaHandler(crmSteps.checkCrmJob);
