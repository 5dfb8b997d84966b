package manifest

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// go-toml's Decoder reports where a syntax error, an unknown key or a bad
// value is, but it matches keys to fields without regard to case, has no
// way to ask where a key is once decoding succeeded (and errors found by
// Validate deserve a line and column too), and stops at the first bad
// value without reporting the unknown keys before it. So Parse walks the
// document with go-toml's own parser (package unstable) to list its keys in
// document order, with where each key and its value start.

// entry is one key of a document: a table header, a key-value, or a
// key-value of an inline table, with its full path.
type entry struct {
	path []string
	// keys are the path's prefixes as errors write them: with the index
	// of each array of tables the key is in ("children[1].id").
	keys []string
	kind unstable.Kind   // of the value; Table or ArrayTable for a header
	text string          // the value of a String
	elem []unstable.Kind // the kinds of an Array's elements
}

// spot is where a key and its value start, as byte offsets. implicit marks
// a table created only by a dotted key or as the parent of a header; a
// later header or key for the same table takes its place.
type spot struct {
	key, val int
	implicit bool
}

// document is the keys of a TOML document that go-toml has accepted.
type document struct {
	src     []byte
	entries []entry         // in document order
	spots   map[string]spot // by entry.key
	arrays  map[string]int  // the length of each array of tables, by key
}

// scan lists the keys of src, which must be valid TOML without a byte-order
// mark.
func scan(src []byte) (*document, error) {
	doc := &document{src: src, spots: map[string]spot{}, arrays: map[string]int{}}
	var p unstable.Parser
	p.Reset(src)
	var table []string
	var tableKeys []string // the indexed key of each prefix of table
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(expr)
			tableKeys = doc.indexed(nil, table, expr.Kind == unstable.ArrayTable)
			// A header's errors point at its '[' (or '[['), which go-toml
			// does not record; only blanks may come between it and the key.
			start := firstKeyOffset(expr) - 1
			for src[start] != '[' {
				start--
			}
			if expr.Kind == unstable.ArrayTable {
				start--
			}
			for n := 1; n < len(table); n++ {
				doc.record(tableKeys[n-1], start, start, true)
			}
			key := tableKeys[len(table)-1]
			doc.record(key, start, start, false)
			if expr.Kind == unstable.ArrayTable {
				// The array itself, for errors about its type: at its first
				// element.
				doc.record(arrayKey(key), start, start, false)
			}
			doc.entries = append(doc.entries, entry{path: table, keys: tableKeys, kind: expr.Kind})
		case unstable.KeyValue:
			doc.keyval(table, tableKeys, expr)
		}
	}
	return doc, p.Error()
}

// indexed returns the error keys of each prefix of path under the table
// whose prefixes' keys are base: a part that names an array of tables
// gets the index of its last element, and the last part of an [[array]]
// header (appending is true) a new element's.
func (doc *document) indexed(base, path []string, appending bool) []string {
	keys := make([]string, 0, len(path))
	prev := ""
	if len(base) > 0 {
		prev = base[len(base)-1] + "."
	}
	for i, part := range path {
		if i > 0 {
			prev += "."
		}
		k := prev + keyString([]string{part})
		if n, ok := doc.arrays[k]; ok || (appending && i == len(path)-1) {
			if appending && i == len(path)-1 {
				doc.arrays[k] = n + 1
			} else {
				n--
			}
			k += "[" + strconv.Itoa(n) + "]"
		}
		keys = append(keys, k)
		prev = k
	}
	return append(append([]string(nil), base...), keys...)
}

// keyval lists a key-value, and those of an inline table in its value,
// under the table with path table, whose prefixes' error keys are
// tableKeys.
func (doc *document) keyval(table, tableKeys []string, kv *unstable.Node) {
	parts := keyParts(kv)
	path := append(append([]string(nil), table...), parts...)
	keys := doc.indexed(tableKeys, parts, false)
	key := firstKeyOffset(kv)
	for n := len(table) + 1; n < len(path); n++ {
		doc.record(keys[n-1], key, key, true)
	}
	doc.record(keys[len(keys)-1], key, valueOffset(doc.src, kv), false)
	v := kv.Value()
	e := entry{path: path, keys: keys, kind: v.Kind}
	switch v.Kind {
	case unstable.String:
		e.text = string(v.Data)
	case unstable.Array:
		for it := v.Children(); it.Next(); {
			if k := it.Node().Kind; k != unstable.Comment {
				e.elem = append(e.elem, k)
			}
		}
	}
	doc.entries = append(doc.entries, e)
	if v.Kind == unstable.InlineTable {
		for it := v.Children(); it.Next(); {
			if it.Node().Kind == unstable.KeyValue {
				doc.keyval(path, keys, it.Node())
			}
		}
	}
}

func (doc *document) record(s string, key, val int, implicit bool) {
	if old, ok := doc.spots[s]; ok && (implicit || !old.implicit) {
		return // the first definition wins, as it does for [[arrays]]
	}
	doc.spots[s] = spot{key: key, val: val, implicit: implicit}
}

func keyParts(n *unstable.Node) []string {
	var parts []string
	for it := n.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

func firstKeyOffset(n *unstable.Node) int {
	it := n.Key()
	it.Next()
	return int(it.Node().Raw.Offset)
}

// valueOffset returns where the value of a key-value starts. go-toml does
// not record it for arrays and inline tables, but the grammar puts only
// blanks and '=' between the end of the key and the value.
func valueOffset(src []byte, kv *unstable.Node) int {
	var last unstable.Range
	for it := kv.Key(); it.Next(); {
		last = it.Node().Raw
	}
	i := int(last.Offset + last.Length)
	for i < len(src) && strings.IndexByte(" \t=", src[i]) >= 0 {
		i++
	}
	return i
}

// arrayKey is the key of the array of tables whose element has the
// error key k ("children[1]" -> "children").
func arrayKey(k string) string { return k[:strings.LastIndexByte(k, '[')] }

// keyString writes a key as TOML does, quoting the parts that are not bare.
func keyString(path []string) string {
	var b strings.Builder
	for i, part := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if isBareKey(part) {
			b.WriteString(part)
		} else {
			b.WriteString(strconv.Quote(part))
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}

// stripBOM drops a byte-order mark, which go-toml refuses, as earlier
// versions of this package did; positions are counted after it.
func stripBOM(src []byte) []byte {
	for _, bom := range []string{"\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"} {
		if s, ok := bytes.CutPrefix(src, []byte(bom)); ok {
			return s
		}
	}
	return src
}

// lineCol converts a byte offset to a 1-based line and byte column.
func lineCol(src []byte, off int) (line, col int) {
	before := string(src[:off])
	return strings.Count(before, "\n") + 1, off - strings.LastIndexByte(before, '\n')
}
