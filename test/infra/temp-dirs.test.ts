import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWorkflowAsl } from '#lib/workflow';

/** Rendering the definitions (every local run, every workflow test) leaves nothing in the temp dir. */
describe('renderWorkflowAsl', () => {
  const previous = process.env.TMPDIR;
  afterEach(() => {
    process.env.TMPDIR = previous;
  });

  it('removes the cloud assembly folder its App makes (cdk.outXXXX in the temp dir otherwise)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-'));
    try {
      process.env.TMPDIR = dir;
      const asl = renderWorkflowAsl();
      expect(Object.keys(asl.exportRun.States).length).toBeGreaterThan(0);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
