package metrics

// The helpers of the package's tests that the envtest test, in package metrics_test, uses: it runs
// the operator's controllers, which import this package.
var (
	CompareOnce = compareOnce
	Unix        = unix
)
