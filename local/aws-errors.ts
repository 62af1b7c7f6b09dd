// AWS SDK and network errors in words a user can act on: which service, which endpoint, what to check.

/** What the CLI was talking to when an AWS call failed. */
export interface AwsTarget {
  /** e.g. `S3` or `Step Functions` */
  service: string;
  /** e.g. `s3://bucket/prefix` or `states.eu-west-1.amazonaws.com` */
  resource: string;
  /** The endpoint override in use (AWS_ENDPOINT_URL_S3), if any. */
  endpoint?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** What an identity needs of each service the CLI calls, for the access-denied sentence. */
const NEEDED: Record<string, string> = {
  S3: 'it needs s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject, s3:GetObjectTagging and s3:PutObjectTagging on the destination',
  'Step Functions': 'it needs states:StartExecution, states:DescribeExecution and states:StopExecution',
  'Secrets Manager':
    'it needs secretsmanager:GetSecretValue and PutSecretValue on the secret, and a deployed secret lets only ' +
    'the pipeline and the roles in operatorRoleArns read it: add your role to operatorRoleArns in ' +
    'config/<env>.json (or -c operatorRoleArns=<role ARN>) and deploy (README "Security")',
};

/**
 * One sentence naming the service, the resource or endpoint and the likely fix, for the errors a user
 * meets: no region, no credentials, wrong credentials, access denied, no such bucket or state
 * machine, an unreachable endpoint. Undefined for anything else (shown as it is).
 */
export function describeAwsError(err: unknown, target: AwsTarget): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const name = err.name;
  const code = networkCode(err);
  const where = `${target.service} (${target.resource}${target.endpoint ? ` via ${target.endpoint}` : ''})`;
  if (/region is missing/i.test(err.message)) {
    return `${target.service}: no AWS region configured: set AWS_REGION (e.g. export AWS_REGION=eu-west-1) or a region in your AWS profile`;
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(err.message)) {
    return `${target.service}: no AWS credentials found: set AWS_PROFILE (after aws sso login / aws configure), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  }
  if (code) {
    return `cannot reach ${where}: ${code}. Check the endpoint${target.endpoint ? ' (AWS_ENDPOINT_URL_S3)' : ''}, your network or proxy, and the region`;
  }
  if (
    [
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredToken',
      'ExpiredTokenException',
      'InvalidClientTokenId',
    ].includes(name)
  ) {
    return `${where} refused the AWS credentials (${name}): they are wrong or expired; refresh them (aws sso login) or check AWS_PROFILE / AWS_ACCESS_KEY_ID`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || status(err) === 403) {
    return `${where}: access denied (${name}): the credentials' identity lacks the permission; ${NEEDED[target.service] ?? NEEDED['Step Functions']}`;
  }
  if (name === 'NoSuchBucket') {
    return `${where}: the bucket does not exist: create it, or fix the bucket name in --dest`;
  }
  if (name === 'StateMachineDoesNotExist' || name === 'ExecutionDoesNotExist') {
    return `${where}: ${name}: check the ARN (and that the stack is deployed in that account and region)`;
  }
  return undefined;
}

function networkCode(err: Error): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && NETWORK_CODES.has(code)) return code;
    const errors = (e as { errors?: unknown[] }).errors; // AggregateError (happy eyeballs)
    const inner = errors?.find(
      (x) => x instanceof Error && NETWORK_CODES.has((x as NodeJS.ErrnoException).code ?? ''),
    );
    if (inner) return (inner as NodeJS.ErrnoException).code;
    if (e.name === 'TimeoutError') return 'timed out';
  }
  return undefined;
}

function status(err: Error): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
