package params

import _ "embed"

//go:embed regtest-example.json
var regtestExample []byte

// RegtestExampleJSON returns the project's example regtest parameters
// (params/regtest-example.json: a 2-of-3 committee whose secret keys are
// public test keys, tag "bbt4"), the one copy the docs, the tutorial and
// the tests use. Never use them on a real network.
func RegtestExampleJSON() []byte { return append([]byte(nil), regtestExample...) }

// RegtestExample returns the example regtest parameters, validated.
func RegtestExample() *Params {
	p, err := Parse(regtestExample)
	if err != nil {
		panic("params: the embedded regtest example does not validate: " + err.Error())
	}
	return p
}
