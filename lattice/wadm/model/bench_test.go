package model

import "testing"

func BenchmarkParseManifest(b *testing.B) {
	data := readFixture(b, fixtureDir+"/complex.yaml")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseManifest(data); err != nil {
			b.Fatal(err)
		}
	}
}
