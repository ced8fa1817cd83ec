/** The impression rules the tests judge runs by: docs/workflows.md's three examples (billable, severity, anomaly). */
export const EXAMPLE_RULES = `
impressions:
  - label: billable
    when: (footprints.tokens_in ?? 0) + (footprints.tokens_out ?? 0) > 1000
  - label: severity
    value: high
    when: run.error_code == "RUN_WALL_CLOCK" || run.error_code == "HTTP_STATUS"
  - label: severity
    value: med
    when: run.error_code == "GATE_REJECTED"
  - label: severity
    value: low
    when: run.status == "failed"
  - label: anomaly
    when: blueprint.runs >= 3 && run.wall_ms > blueprint.p95_wall_ms * 3
`;
