package actor

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/preinit"
)

// FuzzDecodeCached: any bytes decode to a cached module or errCacheFile,
// never a panic; what decodes re-encodes to the same bytes, and a decoded
// file with any byte changed no longer decodes. Seeds are under
// testdata/fuzz/FuzzDecodeCached.
func FuzzDecodeCached(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeCached(b)
		if err != nil {
			if !errors.Is(err, errCacheFile) {
				t.Fatalf("error does not wrap errCacheFile: %v", err)
			}
			return
		}
		out := encodeCached(e)
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs")
		}
		for _, i := range []int{0, len(cacheMagic), len(b) / 2, len(b) - 1} {
			c := bytes.Clone(b)
			c[i] ^= 1
			if _, err := decodeCached(c); err == nil {
				t.Fatalf("byte %d changed, file still decodes", i)
			}
		}
	})
}

// TestCachePath: a module's cache file is named by its digest and the
// versions of the metering pass and of the image format, so that a new
// version of either misses every file of the old one.
func TestCachePath(t *testing.T) {
	c := &diskCache{dir: "d"}
	var d Digest
	d[0] = 0xab
	img, met := filepath.Base(c.path(d, true)), filepath.Base(c.path(d, false))
	if !strings.HasPrefix(img, "ab00") || !strings.Contains(img, fmt.Sprintf("-meter%d-preinit%d", meter.Version, preinit.Version)) {
		t.Fatalf("image file %q", img)
	}
	if met == img || !strings.HasSuffix(met, fmt.Sprintf("-meter%d", meter.Version)) {
		t.Fatalf("metered file %q", met)
	}
}
