// Prints vitest's JSON report as one plain line: "N passed, N failed, N skipped".
// Exits 1 when the report is missing, records no test, or records a failure.
import fs from "node:fs";

const file = process.argv[2] ?? ".ci/results.json";
if (!fs.existsSync(file)) {
  console.log("0 passed, 1 failed");
  console.error(`no test report at ${file}: the build or the test run failed before any test ran`);
  process.exit(1);
}
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const passed = report.numPassedTests ?? 0;
// A test file that failed to load holds no test results: count it as one failure.
const brokenFiles = (report.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
