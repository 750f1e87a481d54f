package audit

// For the package's external tests, which need dbtest (and dbtest needs this package).
var (
	NamesOf = names
	Namers  = namers
)
