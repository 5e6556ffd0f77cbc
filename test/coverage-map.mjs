// Black-box tests that spawn the service (server.ts under the tests' own loader) or a script (through
// tsx, whose source maps differ from the test loader's and break tap's merge) collect no coverage,
// neither in the test process nor in the processes it starts: they count what the service does from
// the outside, and the in-process contract tests count the lines.
export default function coverageMap (testFile) {
  return /(server|instances|shutdown|dead-log-reader|keys-rotate)\.test\.ts$/.test(testFile) ? null : []
}
