package babylon_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
)

// Fetch every params version from a Babylon node (here a local server
// answering with the bbn-1 versions), pick the one in force at a Bitcoin
// height, and compare the answer with the embedded preset.
func ExampleFetchParamsVersions() {
	recorded, _ := os.ReadFile("../params/testdata/bbn-1-params-versions.json")
	node := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(recorded)
	}))
	defer node.Close()

	vs, doc, err := babylon.FetchParamsVersions(context.Background(), node.URL, babylon.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := vs.At(893362)
	p, _ := v.StakingParams()
	fmt.Printf("%d versions (%d bytes to save)\n", vs.Len(), len(doc))
	fmt.Printf("at height 893362: version %d, %d of %d covenant keys, unbonding fee %d sat\n",
		v.Number(), p.CovenantQuorum(), len(p.CovenantKeys()), p.UnbondingFee())

	preset, _ := params.Preset("bbn-1")
	fmt.Println("differences from the preset:", len(babylon.Compare(preset, vs, babylon.CompareOptions{})))
	// Output:
	// 5 versions (5694 bytes to save)
	// at height 893362: version 4, 6 of 9 covenant keys, unbonding fee 9600 sat
	// differences from the preset: 0
}
