// Tests that spawn server.ts through the tsx loader produce coverage with other source maps,
// which breaks tap's merge; they are black-box tests and contribute no coverage.
export default function coverageMap (testFile) {
  return /(server|instances|shutdown)\.test\.ts$/.test(testFile) ? null : []
}
