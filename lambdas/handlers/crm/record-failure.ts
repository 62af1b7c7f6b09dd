// Lambda RecordCrmFailure: writes the FAILED record of a CRM export; the cursor stays (see steps/crm/job.ts).
import { lambdaHandler } from '#lambda-runtime';
import { crmSteps } from '#steps/crm/index';

export const handler = lambdaHandler(crmSteps.recordCrmFailure);
