/**
 * `xyn blueprint validate FILE [--json]`: checks a workflow blueprint (YAML,
 * or JSON by its .json name) and prints `FILE: valid — blueprint ID, N steps`
 * (exit 0), or every issue as `FILE: PATH: MESSAGE` (exit 2). With --json,
 * one object: `{file, ok, blueprint_id?, steps?, digest?, issues}`. A file
 * that cannot be read is one line on stderr, exit 2. It needs no data dir
 * and no node: it only reads the file.
 *
 * `xyn blueprint apply FILE`: saves, validates and promotes it
 * (blueprint-apply.ts).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../core/errors.ts';
import { blueprintDigest, parseBlueprintText, validateBlueprint, type BlueprintResult } from '../../xyn/blueprint/index.ts';
import { withDataFlag } from '../config-flags.ts';
import { withRemoteFlags } from './plans.ts';
import { applyBlueprint, printIssues, type ApplyFlags } from './blueprint-apply.ts';

export function registerBlueprint(program: Command): void {
  const blueprint = program.command('blueprint').description('workflow blueprints (docs/blueprints.md)');

  blueprint
    .command('validate')
    .argument('<file>', 'a blueprint file: YAML, or JSON when its name ends in .json')
    .description('check a blueprint: every issue, each naming its field (exit 0 valid, 2 not)')
    .option('--json', 'print the result as one JSON object')
    .action((file: string, flags: { json?: boolean }) => {
      const result = validateFile(file);
      if (flags.json) {
        const ok = result.ok
          ? { ok: true, blueprint_id: result.blueprint.id, steps: result.blueprint.plan.length, digest: blueprintDigest(result.blueprint), issues: [] }
          : { ok: false, issues: result.issues };
        process.stdout.write(`${JSON.stringify({ file, ...ok })}\n`);
      } else if (result.ok) {
        const n = result.blueprint.plan.length;
        process.stdout.write(`${file}: valid — blueprint ${result.blueprint.id}, ${n} step${n === 1 ? '' : 's'}\n`);
      } else {
        printIssues(file, result.issues);
      }
      if (!result.ok) process.exitCode = 2;
    });

  withRemoteFlags(withDataFlag(blueprint.command('apply')))
    .argument('<file>', 'a blueprint file: YAML, or JSON when its name ends in .json')
    .description("save, validate and promote a blueprint: its version becomes active (through a node with --url, else on the data dir); exit 2 with every issue if it is invalid")
    .option('--json', 'print the result as one JSON object')
    .action((file: string, flags: ApplyFlags) => applyBlueprint(file, readBlueprintFile(file), flags));
}

function readBlueprintFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'file');
  }
}

function validateFile(file: string): BlueprintResult {
  const text = readBlueprintFile(file);
  const parsed = parseBlueprintText(text, file);
  return parsed.ok ? validateBlueprint(parsed.value) : parsed;
}
