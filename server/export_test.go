package server

// ParseByteRangeForTest exposes parseByteRange to the external tests.
var ParseByteRangeForTest = parseByteRange
