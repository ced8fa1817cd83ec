/**
 * The verify page's Web Worker: checks a report with report-checks.ts, the
 * very code `xyn verify` runs (SHA-256 and Ed25519 from @noble), off the
 * page's main thread; the page drives it through comlink (verify.ts).
 */
import { expose } from 'comlink';
import { checkReport } from '../../hxo/certify/report-checks.ts';

/** One line of the page: a check, whether it passed, and what is wrong when not. */
export interface CheckLine {
  field: string;
  claim: string;
  ok: boolean;
  problems: string[];
}

export interface Verdict {
  ok: boolean;
  /** Every check in order, the report's shape first. */
  lines: CheckLine[];
}

const SHAPE_CLAIM = 'the file is a plan report: JSON with every field a report has, each of the right form';

function verify(text: string, expectedKey: string): Verdict {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    return { ok: false, lines: [{ field: 'report', claim: SHAPE_CLAIM, ok: false, problems: [`not JSON: ${(err as Error).message}`] }] };
  }
  const result = checkReport(input, expectedKey === '' ? {} : { publicKeyHex: expectedKey });
  if (!result.shaped) return { ok: false, lines: [{ field: 'report', claim: SHAPE_CLAIM, ok: false, problems: result.problems }] };
  const lines = result.checks.map(({ field, claim, problems }) => ({ field, claim, ok: problems.length === 0, problems }));
  return { ok: lines.every((l) => l.ok), lines: [{ field: 'report', claim: SHAPE_CLAIM, ok: true, problems: [] }, ...lines] };
}

const verifier = {
  verify,
  /** Answers once the worker has loaded: the page then needs nothing more from the network. */
  ready: (): true => true,
};

export type Verifier = typeof verifier;

expose(verifier);
