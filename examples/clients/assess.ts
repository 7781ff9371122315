// Calling popcheck from TypeScript with the types openapi-typescript generates from
// openapi.yaml (see README.md here):
//
//   npx openapi-typescript@7.13.0 openapi.yaml -o examples/clients/popcheck.ts
//
// `make lint` generates popcheck.ts the same way and type-checks this file with tsc.
import type { components, paths } from "./popcheck";

type AssessmentRequest = components["schemas"]["AssessmentRequest"];
type Assessment = components["schemas"]["Assessment"];
type ValidationProblem = components["schemas"]["ValidationProblem"];
type Problem = components["schemas"]["Problem"];

// The operation's own view of the same types: what POST /assess takes and answers.
type AssessBody = paths["/assess"]["post"]["requestBody"]["content"]["application/json"];
type Assessed = paths["/assess"]["post"]["responses"]["200"]["content"]["application/json"];
type Invalid =
  paths["/assess"]["post"]["responses"]["422"]["content"]["application/problem+json"];

const request: AssessBody = {
  age: 45,
  onset: "sudden", // components["schemas"]["Onset"]; null means "not answered"
  pain: { level: 6, radiates_to_leg: true, below_knee: true },
  neuro: { numbness: true, saddle_numbness: false, bladder_or_bowel_change: false },
  muscles: { tight: ["hips", "glutes"], spasm: null },
  history: { recent_trauma: null },
};

export async function assess(baseUrl: string, body: AssessmentRequest = request): Promise<string> {
  const response = await fetch(`${baseUrl}/assess`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status === 422) {
    const problem: Invalid = await response.json();
    return describeInvalid(problem);
  }
  if (!response.ok) {
    const problem: Problem = await response.json();
    return `${problem.status} ${problem.title}: ${problem.detail}`;
  }
  const assessment: Assessed = await response.json();
  return describe(assessment);
}

function describe(assessment: Assessment): string {
  const level: components["schemas"]["UrgencyLevel"] = assessment.urgency.level;
  const lines = [`${level}: ${assessment.urgency.seek_care}`];
  for (const flag of assessment.red_flags) lines.push(`red flag: ${flag.label}`);
  for (const cause of assessment.causes) lines.push(`${cause.likelihood}: ${cause.label}`);
  for (const step of assessment.recommendations) {
    // `dose` is string | null: null for referrals and precautions.
    lines.push(`${step.type}: ${step.label}${step.dose === null ? "" : ` (${step.dose})`}`);
  }
  return lines.join("\n");
}

function describeInvalid(problem: ValidationProblem): string {
  // `errors` is required on a 422: no optional chaining needed.
  const fields = Object.entries(problem.errors).map(([path, messages]) => {
    const list: string[] = messages;
    return `${path}: ${list.join(" ")}`;
  });
  const status: 422 = problem.status;
  return [`${status} ${problem.detail}`, ...fields].join("\n");
}
