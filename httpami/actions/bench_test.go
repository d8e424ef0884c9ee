package actions_test

import (
	"testing"

	"github.com/amihttp/amihttp/httpami/actions"
)

// BenchmarkValidate validates a typical Originate against the catalog of
// a known version.
func BenchmarkValidate(b *testing.B) {
	params := append(kv("ActionID", "o1", "Variable", "a=1", "Variable", "b=2", "Async", "true"), originate...)
	b.ReportAllocs()
	for b.Loop() {
		if err := actions.Validate("Originate", params, "23.4.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParams turns a typed Originate into its parameters.
func BenchmarkParams(b *testing.B) {
	a := &actions.Originate{
		Channel: "PJSIP/100", Context: "default", Exten: "200", Priority: "1", Async: "true",
		Variable: map[string]string{"a": "1", "b": "2"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := actions.Params(a); err != nil {
			b.Fatal(err)
		}
	}
}
