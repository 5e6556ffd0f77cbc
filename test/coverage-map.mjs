// Tests that spawn server.ts or a script through the tsx loader produce coverage with other source maps,
// which breaks tap's merge; they are black-box tests and contribute no coverage.
export default function coverageMap (testFile) {
  return /(server|instances|shutdown|dead-log-reader|keys-rotate)\.test\.ts$/.test(testFile) ? null : []
}
