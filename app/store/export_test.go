package store

// What the external tests read of the export's make-up.
var (
	// ExportFileNames are the names of the files an export writes each kind of record to.
	ExportFileNames = func() []string {
		var out []string
		for _, f := range exportFiles {
			out = append(out, f.name)
		}
		return out
	}()
	// ExportCoverage is every tenant table the export reads or leaves out, with how.
	ExportCoverage = func() map[string]string {
		out := map[string]string{}
		for _, f := range exportFiles {
			out[f.table] = "exported as " + f.name
		}
		for table, why := range notExported {
			out[table] = why
		}
		return out
	}()
)

// ASCIIWords and SQLWords are searchWords' two ways, for the test that holds one to the other.
var ASCIIWords, SQLWords = asciiWords, sqlWords
