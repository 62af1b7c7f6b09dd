// One pipeline Lambda function: bundling, runtime, logging and tracing defaults.

import { existsSync } from 'node:fs';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResources } from './nag.ts';

/**
 * The process environment every pipeline function runs with (the function's own variables are added):
 * - `NODE_OPTIONS=--enable-source-maps`: stack traces point at the TypeScript sources.
 * - `MALLOC_TRIM_THRESHOLD_` (glibc, see mallopt(3)): free memory is given back to the system only
 *   once 64 MiB of it lie at the top of the heap. Node allocates a fresh buffer for every socket read
 *   and frees them in bursts after garbage collection; glibc's default (128 KiB) gave those pages
 *   back and took them again, page fault by page fault, tens of thousands of times per GiB copied.
 *   Peak memory is unchanged (pages are kept, not added); the copy benchmark runs with this too.
 */
export const FUNCTION_RUNTIME_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--enable-source-maps',
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
};

/** Makes `require` work inside the ESM bundle for CommonJS dependencies (e.g. the AWS SDK). */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface ExportFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'runtime' | 'architecture' | 'logGroup' | 'logRetention' | 'role' | 'bundling'
  > {
  /** Absolute path of the handler module. */
  readonly entry: string;
  /**
   * A folder holding the handler already bundled (`index.mjs`, what `npm run build` writes to
   * dist/lambda-assets/<handler>/): deployed as is, without esbuild at synthesis.
   * @default - `entry` is bundled with esbuild at synthesis
   */
  readonly prebuilt?: string;
  /**
   * Exported name of the handler function.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * The handlers are I/O-bound; CopyToS3 streams in constant memory.
   * @default 256
   */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * A Lambda function of the pipeline, with the defaults every one of them shares:
 * - runtime `nodejs22.x` on arm64 (Graviton: cheaper per GB-second for this I/O-bound code);
 * - bundled with the local esbuild (never Docker) to minified ESM with source maps, the AWS SDK
 *   included so the deployed code runs the SDK versions it was tested with;
 * - the environment of `FUNCTION_RUNTIME_ENVIRONMENT` (source maps; glibc keeps freed memory);
 * - X-Ray tracing active;
 * - its own log group with a finite retention, and its own role that may write only there
 *   (instead of the account-wide AWSLambdaBasicExecutionRole managed policy).
 *
 * The log group and the role are created next to the function (in `scope`, ids `<id>LogGroup` and
 * `<id>Role`) because they must exist before `super()`.
 */
export class ExportFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ExportFunctionProps) {
    const { prebuilt: _prebuilt, ...rest } = props;
    super(scope, id, {
      ...sharedProps(scope, id, rest),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: true,
      },
    });
    acknowledgeDefaults(this);
  }
}

/** esbuild options of every handler bundle: the same at synthesis (ExportFunction) and at `npm run build`. */
export const HANDLER_BUNDLE_OPTIONS = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  bundle: true,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
} as const;

/** An ExportFunction whose handler was bundled by `npm run build` (the packaged construct). */
export class PrebuiltExportFunction extends LambdaFunction {
  constructor(scope: Construct, id: string, props: ExportFunctionProps & { prebuilt: string }) {
    const { prebuilt, entry: _entry, ...rest } = props;
    super(scope, id, {
      ...sharedProps(scope, id, rest),
      handler: `index.${rest.handler ?? 'handler'}`,
      code: Code.fromAsset(prebuilt),
    });
    acknowledgeDefaults(this);
  }
}

/** `PrebuiltExportFunction` when `prebuilt` holds a bundle, else `ExportFunction` (bundled at synthesis). */
export function exportFunction(scope: Construct, id: string, props: ExportFunctionProps): LambdaFunction {
  const { prebuilt } = props;
  return prebuilt && existsSync(`${prebuilt}/index.mjs`)
    ? new PrebuiltExportFunction(scope, id, { ...props, prebuilt })
    : new ExportFunction(scope, id, props);
}

function sharedProps(
  scope: Construct,
  id: string,
  props: Omit<ExportFunctionProps, 'prebuilt' | 'entry'> & { entry?: string },
) {
  const {
    logRetention = RetentionDays.ONE_MONTH,
    handler = 'handler',
    memorySize = 256,
    timeout = Duration.minutes(1),
    environment,
    ...rest
  } = props;
  const logGroup = new LogGroup(scope, `${id}LogGroup`, {
    retention: logRetention,
    // Operational logs only (no tokens, no CSV content): they go with the stack.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${id}`,
  });
  logGroup.grantWrite(role);
  return {
    ...rest,
    handler,
    memorySize,
    timeout,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    tracing: Tracing.ACTIVE,
    logGroup,
    role,
    environment: { ...FUNCTION_RUNTIME_ENVIRONMENT, ...environment },
  };
}

function acknowledgeDefaults(fn: LambdaFunction): void {
  if (fn.role) {
    acknowledgeWildcardResources(
      fn.role,
      ['xray:*'],
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions.',
    );
  }
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to nodejs22.x, the Node line the bundle targets and the project is tested on; moving to a newer runtime is a deliberate, tested upgrade rather than drift.',
  });
}
