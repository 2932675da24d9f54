package ctl

import (
	"encoding/json"
	"testing"
)

// TestStoredClaimsWire pins the CLAIMS_<subject> values (upstream
// crates/host/src/wasmbus/claims.rs:11-45, an untagged enum tried component-first, with the
// iss/rev/sub aliases and tags as a list or a comma string) and the claims.get map each becomes
// (claims.rs:161-193).
func TestStoredClaimsWire(t *testing.T) {
	cases := []struct {
		name, in, stored, entry string
	}{
		{"component", `{"call_alias":"hi","issuer":"AI","name":"n","revision":"3","subject":"MS","tags":["a","b"],"version":"1.0"}`,
			`{"call_alias":"hi","issuer":"AI","name":"n","revision":"3","subject":"MS","tags":["a","b"],"version":"1.0"}`,
			`{"call_alias":"hi","iss":"AI","issuer":"AI","name":"n","rev":"3","revision":"3","sub":"MS","subject":"MS","tags":"a,b","version":"1.0"}`},
		{"component, legacy keys and comma tags", `{"call_alias":"","iss":"AI","name":"n","rev":"x","sub":"MS","tags":"a,b","version":""}`,
			`{"call_alias":"","issuer":"AI","name":"n","revision":"x","subject":"MS","tags":["a","b"],"version":""}`,
			`{"call_alias":"","iss":"AI","issuer":"AI","name":"n","rev":"0","revision":"0","sub":"MS","subject":"MS","tags":"a,b","version":""}`},
		{"provider", `{"issuer":"AI","name":"HTTP","revision":"0","subject":"VS","version":"0.23.0"}`,
			`{"issuer":"AI","name":"HTTP","revision":"0","subject":"VS","version":"0.23.0"}`,
			`{"config_schema":"","iss":"AI","issuer":"AI","name":"HTTP","rev":"0","revision":"0","sub":"VS","subject":"VS","version":"0.23.0"}`},
		{"provider with schema", `{"issuer":"AI","name":"P","revision":"2","subject":"VS","version":"1","config_schema":"{\"b\": 1, \"a\": [true]}"}`,
			`{"issuer":"AI","name":"P","revision":"2","subject":"VS","version":"1","config_schema":"{\"b\": 1, \"a\": [true]}"}`,
			`{"config_schema":"{\"a\":[true],\"b\":1}","iss":"AI","issuer":"AI","name":"P","rev":"2","revision":"2","sub":"VS","subject":"VS","version":"1"}`},
	}
	for _, tc := range cases {
		var c StoredClaims
		if err := json.Unmarshal([]byte(tc.in), &c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, err := json.Marshal(c)
		if err != nil || string(b) != tc.stored {
			t.Errorf("%s stored:\n got %s %v\nwant %s", tc.name, b, err, tc.stored)
		}
		e, _ := Marshal(c.Map())
		if string(e) != tc.entry {
			t.Errorf("%s claims.get entry:\n got %s\nwant %s", tc.name, e, tc.entry)
		}
	}
	for _, bad := range []string{`{}`, `[]`, `{"issuer":"AI","name":"n","revision":"1","subject":"MS"}`, `{"issuer":1,"name":"n","revision":"1","subject":"MS","version":""}`} {
		var c StoredClaims
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func FuzzStoredClaims(f *testing.F) {
	f.Add([]byte(`{"call_alias":"hi","issuer":"AI","name":"n","revision":"3","subject":"MS","tags":["a"],"version":"1.0"}`))
	f.Add([]byte(`{"issuer":"AI","name":"P","revision":"2","subject":"VS","version":"1","config_schema":"{}"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c StoredClaims
		if json.Unmarshal(b, &c) != nil {
			return
		}
		_ = c.Map()
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("decoded claims do not encode: %v", err)
		}
		var back StoredClaims
		if err := json.Unmarshal(out, &back); err != nil || back.Subject() != c.Subject() {
			t.Fatalf("round trip: %s: %v", out, err)
		}
	})
}
