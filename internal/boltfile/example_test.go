package boltfile_test

import (
	"fmt"

	"github.com/btcstake/btcstake/internal/boltfile"
)

func ExamplePlausiblePageSize() {
	fmt.Println(boltfile.PlausiblePageSize(4096), boltfile.PlausiblePageSize(3000))
	// Output: true false
}

func ExampleMeta_Fits() {
	m := boltfile.Meta{PageSize: 4096, PGID: 8}
	fmt.Println(m.Fits(8*4096), m.Fits(8*4096-1))
	// Output: true false
}
