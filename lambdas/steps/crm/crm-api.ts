// The CRM data validation calls of the Deps' LinkedIn API, checked once where a CRM step needs them.
import { ConfigurationError } from '#common/errors';
import type { CrmValidationApi } from '#linkedin/api';
import type { Deps } from '../deps.ts';

/** The CRM calls of `deps.linkedin` (LinkedInClient has them; a LinkedIn API without them is a wiring error). */
export function crmApi(deps: Pick<Deps, 'linkedin'>): CrmValidationApi {
  const api = deps.linkedin as Partial<CrmValidationApi>;
  if (typeof api.createCrmValidationJob !== 'function' || typeof api.getCrmValidationJob !== 'function') {
    throw new ConfigurationError(
      'the LinkedIn API given to the CRM steps has no CRM data validation calls (createCrmValidationJob, getCrmValidationJob)',
    );
  }
  return api as CrmValidationApi;
}
