package customers_test

import "github.com/handoverhq/handover/customers/customerstest"

// The helpers every test here uses, from customerstest.
var (
	newStore     = customerstest.NewStore
	newImporter  = customerstest.NewImporter
	writeFile    = customerstest.WriteFile
	csvText      = customerstest.CSV
	sampleCSV    = customerstest.SampleCSV
	allCustomers = customerstest.All
	countRows    = customerstest.CountRows
)
