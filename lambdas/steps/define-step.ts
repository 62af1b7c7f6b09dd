// How a step is defined: a zod input schema and a pure function of (input, deps).
import type * as z from 'zod';
import { InvalidInputError } from '#common/errors';
import type { Deps } from './deps.ts';

/**
 * One Task state's work: validate the event with zod, then call a pure core with its dependencies.
 * The AWS handler (`lambdaHandler`) and the local executor both run exactly this.
 */
export interface Step<O> {
  readonly name: string;
  run(event: unknown, deps: Deps): Promise<O>;
}

export function defineStep<S extends z.ZodType, O>(
  name: string,
  schema: S,
  core: (input: z.output<S>, deps: Deps) => Promise<O>,
): Step<O> {
  return {
    name,
    async run(event, deps) {
      return core(parseStepEvent(name, schema, event), deps);
    },
  };
}

/** `event` parsed by `schema`, or an InvalidInputError naming the step and every bad field. */
export function parseStepEvent<S extends z.ZodType>(name: string, schema: S, event: unknown): z.output<S> {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  throw new InvalidInputError(`${name} received an invalid event: ${problems.join('; ')}`);
}
