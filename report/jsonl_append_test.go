package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAppendFindingRecord: appendFindingRecord writes byte for byte what
// encoding/json writes for the record, on findings whose every field is
// set at random by reflection (so a field added to Finding or Location
// and not to the appender fails here), with strings drawn from what JSON
// must escape: quotes, backslashes, control characters, invalid UTF-8,
// U+2028 and U+2029, HTML characters (left alone), DEL.
func TestAppendFindingRecord(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(14, 1))
	var scratch []byte
	for n := range 3000 {
		var f Finding
		fill(rng, reflect.ValueOf(&f).Elem(), 0)
		if n%3 == 0 {
			f.Remediation = "" // rendered by the appender
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(typedFinding{Type: "finding", Finding: normalized(f)}); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		got := appendFindingRecord(nil, &scratch, f)
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("finding %d differs:\n got %s\nwant %s", n, got, want.Bytes())
		}
	}
}

// hostileRunes are what a JSON encoder must get right.
var hostileRunes = []string{"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f",
	"<", ">", "&", "é", "\u2028", "\u2029", "\U0001F600", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "%3D", "=", "?"}

func fillString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(12) {
		b.WriteString(hostileRunes[rng.IntN(len(hostileRunes))])
	}
	return b.String()
}

// fill sets v, and everything it holds, to random values; fields tagged
// json:"-" are left alone (they are never written).
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fillString(rng))
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if v.Type().Name() == "Severity" {
			v.SetInt(int64(rng.IntN(5)))
			return
		}
		v.SetInt(int64(rng.IntN(3)) * rng.Int64N(1<<40))
	case reflect.Slice:
		if rng.IntN(4) == 0 {
			v.SetZero() // nil
			return
		}
		n := rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Pointer:
		if rng.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(rng, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("", -(5*3600 + 30*60)),
				time.FixedZone("", (99*60+59)*60)}
			sec := rng.Int64N(400000000000) - 100000000000 // years 1 to 14000: some not printable
			v.Set(reflect.ValueOf(time.Unix(sec, rng.Int64N(1e9)*int64(rng.IntN(2))).In(zones[rng.IntN(len(zones))])))
			return
		}
		for i := range v.NumField() {
			if tag := v.Type().Field(i).Tag.Get("json"); tag == "-" || !v.Type().Field(i).IsExported() {
				continue
			}
			fill(rng, v.Field(i), depth+1)
		}
	case reflect.Uint8:
		v.SetUint(uint64(rng.IntN(256)))
	default:
		panic("fill: no case for " + v.Type().String())
	}
}
